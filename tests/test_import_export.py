import csv
import io
from datetime import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import Workbook, load_workbook

from regions.models import ContentVersion, Region
from representatives.models import ReceptionHours, Representative
from representatives.spreadsheets import COLUMNS, MAX_COLUMNS, read_xlsx

from .factories import WORKDAYS, make_representative
from .support import InBackground, held_open, wait_until_a_query_waits_on_a_lock

pytestmark = pytest.mark.django_db

HEADER = list(COLUMNS.values())
SAMPLE = settings.BASE_DIR / "fixtures" / "representatives-sample.csv"


def contact(**changes) -> dict:
    row = {
        "Регион": "59",
        "Код контакта": "perm-2",
        "Уровень": "2",
        "Должность": "Страховой представитель 2 уровня",
        "ФИО": "",
        "Телефоны": "8 (342) 200-00-00; +7 342 210-10-10",
        "Электронная почта": "test@example.com",
        "Адрес офиса": "г. Тестовск, ул. Проверочная, д. 1",
        "Часы приёма": "пн-пт 09:00-13:00 14:00-18:00; сб 10:00-14:00",
        "Примечание": "",
        "Порядок": "1",
        "Показывать": "да",
    }
    return row | changes


GOOD = [
    contact(),
    contact(**{"Регион": "perm-krai", "Код контакта": "perm-3", "Уровень": "3"}),
    contact(**{"Регион": "Томская область", "Код контакта": "tomsk-2", "Часы приёма": ""}),
]


def write_csv(path: Path, rows: list[dict], *, header=HEADER, delimiter=";", encoding="utf-8-sig"):
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(header)
    writer.writerows([row.get(title, "") for title in header] for row in rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def import_(path, *options) -> tuple[str, str]:
    return run("import_representatives", str(path), *options)


def snapshot() -> list[tuple]:
    return list(
        Representative.objects.order_by("pk").values_list(
            "pk", "region__code", "code", "level", "role", "phones", "updated_at"
        )
    ) + list(ReceptionHours.objects.order_by("pk").values_list("pk", "weekday", "opens"))


def test_a_good_file_is_imported(tmp_path, regions):
    out, err = import_(write_csv(tmp_path / "good.csv", GOOD))
    assert "Создано: 3." in out
    assert "проверка строк: 3 из 3" in err
    representative = Representative.objects.get(region__code="59", code="perm-2")
    assert representative.level == 2
    assert representative.phones == "8 (342) 200-00-00\n+7 342 210-10-10"
    assert representative.email == "test@example.com"
    assert [group.times for group in representative.hour_groups] == [
        "09:00–13:00, 14:00–18:00",
        "10:00–14:00",
    ]
    assert Representative.objects.get(code="perm-3").level == 3
    assert Representative.objects.get(code="tomsk-2").region.slug == "tomsk-oblast"


BAD_ROWS = {
    "unknown-region": ({"Регион": "99"}, "Регион", "нет такого региона «99»"),
    "bad-phone": ({"Телефоны": "8 (342) 200; 123"}, "Телефоны", "Неверный номер телефона"),
    "bad-email": ({"Электронная почта": "test@"}, "Электронная почта", "адрес электронной"),
    "bad-level": ({"Уровень": "4"}, "Уровень", "1, 2 или 3"),
    "level-word": ({"Уровень": "второй"}, "Уровень", "1, 2 или 3"),
    "duplicate-row": ({}, "Код контакта", "этот контакт уже есть в строке 2"),
    "bad-hours": ({"Часы приёма": "пн 18:00-09:00"}, "Часы приёма", "позже начала"),
    "unreadable-hours": (
        {"Часы приёма": "По будням с 9 до 18"},
        "Часы приёма",
        "Часы приёма не распознаны: «по будням с 9 до 18». Пример: «пн-пт 09:00-18:00;",
    ),
    "no-role": ({"Должность": ""}, "Должность", "не может быть пустым"),
    "empty-region": ({"Регион": ""}, "Регион", "ячейка пустая. Укажите код субъекта (59)"),
    "bad-code": ({"Код контакта": "код контакта"}, "Код контакта", "латинских букв"),
    "bad-active": ({"Показывать": "может быть"}, "Показывать", "«да» или «нет»"),
    "bad-order": ({"Порядок": "-1"}, "Порядок", "целое число"),
    "no-channel": (
        {"Телефоны": "", "Электронная почта": "", "Адрес офиса": " "},
        "Телефоны",
        "Заполните хотя бы одно из полей «Телефоны», «Электронная почта» или «Адрес офиса»",
    ),
}


def refused(path) -> str:
    err = io.StringIO()
    with pytest.raises(CommandError, match="Ничего не записано"):
        call_command("import_representatives", str(path), stderr=err)
    return err.getvalue()


@pytest.mark.parametrize(("changes", "column", "message"), BAD_ROWS.values(), ids=BAD_ROWS)
def test_a_bad_row_is_refused_with_row_and_column_and_nothing_is_written(
    tmp_path, regions, changes, column, message
):
    make_representative(regions.by_code["59"], code="perm-2", role="Было до загрузки")
    before = snapshot()
    err = refused(write_csv(tmp_path / "bad.csv", [*GOOD, contact(**changes)]))
    assert f"Строка 5, столбец «{column}»: " in err
    assert message in err
    assert snapshot() == before


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ([t for t in HEADER if t != "Телефоны"], "Строка 1, столбец «Телефоны»: нет такого"),
        ([*HEADER, "Лишний"], "Строка 1, столбец «Лишний»: неизвестный столбец"),
        ([*HEADER, "Телефоны"], "Строка 1, столбец «Телефоны»: столбец повторяется"),
    ],
    ids=["missing-column", "unknown-column", "repeated-column"],
)
def test_a_bad_header_is_refused(tmp_path, regions, header, expected):
    assert expected in refused(write_csv(tmp_path / "bad.csv", GOOD, header=header))
    assert not Representative.objects.exists()


def test_unquoted_separator_in_a_cell_is_reported(tmp_path, regions):
    path = tmp_path / "shifted.csv"
    path.write_text(";".join(HEADER) + "\n" + ";".join(contact().values()) + ";лишнее\n")
    assert "Строка 2, столбец «после «Показывать»»: лишние ячейки" in refused(path)


def test_dry_run_reports_and_writes_nothing(tmp_path, regions):
    kept = make_representative(regions.by_code["59"], code="perm-old", role="Нет в файле")
    make_representative(regions.by_code["59"], code="perm-2", phones="8 (342) 299-99-99")
    before = snapshot()
    out, _ = import_(write_csv(tmp_path / "good.csv", GOOD), "--dry-run", "--prune")
    assert snapshot() == before
    assert "Будет создано: 2." in out
    assert "Будет изменено: 1." in out
    assert "59 perm-2 — Страховой представитель 2 уровня (Должность, Телефоны," in out
    assert "Будет удалено: 1." in out
    assert f"59 perm-old — {kept.role}" in out
    assert "ничего не записано" in out


def test_reimport_changes_nothing_and_changes_are_applied_in_place(tmp_path, regions):
    path = write_csv(tmp_path / "good.csv", GOOD)
    import_(path)
    before = snapshot()
    out, _ = import_(path)
    assert "Создано: 0." in out and "Изменено: 0." in out and "Без изменений: 3." in out
    assert snapshot() == before

    pk = Representative.objects.get(code="perm-2").pk
    changed = [contact(**{"Телефоны": "8 (342) 233-33-33", "Часы приёма": "пн 08:00-12:00"})]
    out, _ = import_(write_csv(tmp_path / "changed.csv", [*changed, *GOOD[1:]]))
    assert "Изменено: 1." in out and "(Телефоны, Часы приёма)" in out
    representative = Representative.objects.get(code="perm-2")
    assert representative.pk == pk
    assert representative.phones == "8 (342) 233-33-33"
    assert representative.intervals == [(1, time(8), time(12))]


def test_an_import_raises_the_content_version_once_whatever_it_deletes(tmp_path, regions):
    """Deleting rows sends a signal per row: 50 contacts with new hours and 20 pruned made 251
    updates of the version's one row (a lock every instance's writes wait on)."""
    rows = [contact(**{"Код контакта": f"perm-{n}"}) for n in range(50)]
    import_(write_csv(tmp_path / "first.csv", rows))
    for n in range(20):
        make_representative(regions.by_code["59"], code=f"perm-old-{n}", hours=WORKDAYS)
    changed = [row | {"Часы приёма": "пн 08:00-12:00"} for row in rows]
    before = ContentVersion.objects.get().number
    with CaptureQueriesContext(connection) as queries:
        out, _ = import_(write_csv(tmp_path / "changed.csv", changed), "--prune")
    assert "Изменено: 50." in out and "Удалено: 20." in out
    assert ContentVersion.objects.get().number == before + 1
    writes = [q["sql"] for q in queries if "contentversion" in q["sql"].lower()]
    assert sum(sql.lstrip().upper().startswith("UPDATE") for sql in writes) == 1
    assert len(queries) < 40


def test_prune_removes_only_absent_contacts_of_the_regions_in_the_file(tmp_path, regions):
    make_representative(regions.by_code["59"], code="perm-old")
    other = make_representative(regions.by_code["77"], code="moscow-kept")
    path = write_csv(tmp_path / "good.csv", GOOD)
    out, _ = import_(path)
    assert "останутся на сайте" in out
    assert Representative.objects.filter(code="perm-old").exists()
    out, _ = import_(path, "--prune")
    assert "Удалено: 1." in out
    assert not Representative.objects.filter(code="perm-old").exists()
    assert Representative.objects.filter(pk=other.pk).exists()


@pytest.mark.parametrize(
    ("delimiter", "encoding"),
    [(",", "utf-8"), (";", "utf-8"), (",", "utf-8-sig"), (";", "cp1251")],
)
def test_csv_dialects(tmp_path, regions, delimiter, encoding):
    path = write_csv(tmp_path / "good.csv", GOOD, delimiter=delimiter, encoding=encoding)
    out, _ = import_(path)
    assert "Создано: 3." in out


def test_a_file_in_another_cyrillic_encoding_gets_one_reason(tmp_path, regions):
    """KOI8-R reads as Windows-1251 without an error, every title garbled: 24 lines of
    «неизвестный столбец» and «нет такого столбца» said nothing of the encoding."""
    path = write_csv(tmp_path / "koi8.csv", GOOD, delimiter=";", encoding="koi8-r")
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_representatives", str(path), stderr=err)
    lines = [line for line in err.getvalue().splitlines() if line.startswith("Строка")]
    assert len(lines) == 1
    assert "ни одно название столбца не узнано" in lines[0] and "кодировке" in lines[0]
    assert not Representative.objects.exists()


def test_xlsx_with_numbers_as_numbers(tmp_path, regions):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["# Комментарий: строки с решёткой пропускаются"])
    sheet.append(HEADER)
    row = contact(**{"Регион": 2, "Код контакта": "ufa-1", "Уровень": 2, "Порядок": 3.0})
    sheet.append(list(row.values()))
    sheet.append([])
    sheet.append(list(contact(**{"Уровень": 7}).values()))
    path = tmp_path / "bad.xlsx"
    workbook.save(path)
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_representatives", str(path), stderr=err)
    assert "Строка 5, столбец «Уровень»" in err.getvalue()
    assert not Representative.objects.exists()

    sheet.delete_rows(5)
    workbook.save(path)
    out, _ = import_(path)
    assert "Создано: 1." in out
    representative = Representative.objects.get()
    assert (representative.region.slug, representative.level, representative.order) == (
        "bashkortostan",
        2,
        3,
    )


def test_a_stray_cell_far_right_in_an_xlsx_costs_nothing(tmp_path, regions):
    # The sheet then spans 16,384 columns; only the first MAX_COLUMNS are read.
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    for number in range(200):
        sheet.append(list(contact(**{"Код контакта": f"c-{number}"}).values()))
    sheet.cell(row=300, column=16_384, value="x")
    path = tmp_path / "wide.xlsx"
    workbook.save(path)
    table = read_xlsx(path)
    assert max(len(cells) for _, cells in table.rows) <= MAX_COLUMNS
    out, _ = import_(path)
    assert "Создано: 200." in out


def perm_workbook(count: int = 3) -> Workbook:
    workbook = Workbook()
    workbook.active.append(HEADER)
    for number in range(count):
        workbook.active.append(list(contact(**{"Код контакта": f"perm-{number}"}).values()))
    return workbook


def test_merged_cells_in_an_xlsx_are_named_not_read_as_empty(tmp_path, regions):
    """openpyxl gives the cells of a merge but its first as empty: every row after the first
    was «нет такого региона «»»."""
    workbook = perm_workbook(4)
    workbook.active.merge_cells("A2:A4")
    workbook.active.merge_cells("G4:H5")
    path = tmp_path / "merged.xlsx"
    workbook.save(path)
    with pytest.raises(CommandError) as refusal:
        import_(path)
    assert str(refusal.value) == (
        "В таблице объединены ячейки: A2:A4 (строки 2–4, столбец «Регион»), G4:H5 (строки "
        "4–5, столбцы «Электронная почта»–«Адрес офиса»). Из объединённых ячеек читается "
        "только первая, а в каждой строке должны быть все её значения, регион тоже. Отмените "
        "объединение ячеек и заполните каждую строку."
    )
    assert not Representative.objects.exists()


def test_merged_cells_beside_the_table_or_in_a_comment_are_no_matter(tmp_path, regions):
    workbook = perm_workbook()
    sheet = workbook.active
    sheet.insert_rows(3)
    sheet["A3"] = "# Пермский край, второй уровень"
    sheet.merge_cells("A3:L3")
    sheet.merge_cells("N2:O4")
    path = tmp_path / "merged.xlsx"
    workbook.save(path)
    out, _ = import_(path)
    assert "Создано: 3." in out


@pytest.mark.parametrize(
    ("first", "message"),
    [([], "В файле нет строки заголовка"), ([HEADER], "В файле только строка заголовка")],
    ids=["empty", "header-only"],
)
def test_a_workbook_whose_first_sheet_has_no_contacts_says_only_it_is_read(
    tmp_path, regions, first, message
):
    workbook = perm_workbook()
    instructions = workbook.create_sheet("Инструкция", 0)
    for row in first:
        instructions.append(row)
    path = tmp_path / "sheets.xlsx"
    workbook.save(path)
    with pytest.raises(CommandError) as refusal:
        import_(path)
    assert message in str(refusal.value)
    assert (
        "Сайт читает только первый лист книги («Инструкция»), а листов в ней 2: перенесите "
        "контакты на первый лист." in str(refusal.value)
    )

    del workbook["Sheet"]
    workbook.save(path)
    with pytest.raises(CommandError) as refusal:
        import_(path)
    assert "лист" not in str(refusal.value)  # one sheet: nothing to say about the others


def test_not_a_spreadsheet(tmp_path, regions):
    path = tmp_path / "fake.xlsx"
    path.write_text("Регион;Код контакта")
    with pytest.raises(CommandError, match="не таблица XLSX"):
        import_(path)
    with pytest.raises(CommandError, match="Нет такого файла"):
        import_(tmp_path / "absent.csv")


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_export_then_import_round_trips(tmp_path, regions, kind):
    call_command("loaddata", settings.BASE_DIR / "fixtures" / "representatives.json", verbosity=0)
    perm = regions.by_slug["perm-krai"]
    make_representative(perm, code="a", level=3, person="Тестов Т. Т.", hours=WORKDAYS)
    make_representative(
        perm, code="b", phones="8 (342) 200-00-00\n8 (342) 211-11-11", is_active=False,
        hours=[(1, "09:00", "13:00"), (1, "14:00", "18:00"), (3, "09:00", "13:00")],
        notes="Первая строка\nвторая строка; с точкой с запятой, и запятой",
    )  # fmt: skip
    path = tmp_path / f"all.{kind}"
    run("export_representatives", "-o", str(path))
    before = snapshot()
    out, _ = import_(path)
    assert "Без изменений: 25." in out
    assert snapshot() == before

    exported = {(r.region.code, r.code): r.intervals for r in Representative.objects.all()}
    Representative.objects.all().delete()
    out, _ = import_(path)
    assert "Создано: 25." in out
    assert {(r.region.code, r.code): r.intervals for r in Representative.objects.all()} == exported
    again = tmp_path / f"again.{kind}"
    run("export_representatives", "--format", kind, "-o", str(again))
    if kind == "csv":
        assert again.read_bytes() == path.read_bytes()
        assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    else:
        rows = [list(r) for r in load_workbook(path).active.iter_rows(values_only=True)]
        assert rows == [list(r) for r in load_workbook(again).active.iter_rows(values_only=True)]


def test_export_csv_to_stdout_and_xlsx_needs_a_file(regions):
    make_representative(regions.by_code["70"], code="tomsk")
    out, _ = run("export_representatives")
    assert out.splitlines()[0] == ";".join(HEADER)
    assert out.splitlines()[1].startswith("70;tomsk;2;")
    with pytest.raises(CommandError, match="-o"):
        run("export_representatives", "--format", "xlsx")


def test_ten_thousand_rows(tmp_path, regions):
    codes = list(regions.by_code)
    rows = [
        contact(**{"Регион": codes[number % len(codes)], "Код контакта": f"c-{number}"})
        for number in range(10_000)
    ]
    path = write_csv(tmp_path / "big.csv", rows)
    out, err = import_(path)
    assert "Создано: 10000." in out
    assert "проверка строк: 5000 из 10000" in err
    assert Representative.objects.count() == 10_000
    assert ReceptionHours.objects.count() == 10_000 * 11
    out, _ = import_(path)
    assert "Без изменений: 10000." in out


def test_the_sample_file_is_marked_and_refused_but_otherwise_well_formed(tmp_path, regions):
    text = SAMPLE.read_text(encoding="utf-8")
    assert text.startswith("# ОБРАЗЕЦ")
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_representatives", str(SAMPLE), stderr=err)
    assert "файла-образца" in err.getvalue()
    assert not Representative.objects.exists()

    unmarked = tmp_path / "unmarked.csv"
    unmarked.write_text(text.replace("ОБРАЗЕЦ", "Проба"), encoding="utf-8")
    out, _ = import_(unmarked, "--dry-run")
    assert "Будет создано: 3." in out


@pytest.mark.django_db(transaction=True)
def test_a_contact_added_while_the_import_writes_is_a_clear_message(tmp_path, regions):
    """Another import (or an admin edit) adds a contact the running import is about to create:
    the import waits on its row, then says so in Russian and writes nothing."""
    if connection.vendor != "postgresql":
        pytest.skip("needs row locks between connections: run with DATABASE_URL=postgres://…")
    path = write_csv(tmp_path / "race.csv", [contact(**{"Код контакта": "race-3"})])
    perm = Region.objects.get(code="59")
    with held_open(lambda: make_representative(perm, code="race-3")):
        running = InBackground(lambda: import_(path))
        wait_until_a_query_waits_on_a_lock()  # its insert, on the other's row
    assert isinstance(running.join().error, CommandError)
    assert "Пока шёл импорт, контакты изменились" in str(running.error)
    assert Representative.objects.filter(region=perm, code="race-3").count() == 1
    assert not Representative.objects.exclude(code="race-3").filter(region=perm).exists()
