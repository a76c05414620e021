"""Importing the representatives' spreadsheet from admin: upload, preview, apply.

The same importer as ``manage.py import_representatives``: the file is read and checked by
``spreadsheets``, planned and applied by ``importer``. Between the preview and «Применить» the
file's bytes wait in the default storage under PENDING_DIR, a random name, and the staff
member's session holds a small record of them under a random token the pages name, for
PENDING_SECONDS. «Применить» plans the file again and applies it only if the plan is still the
one the page showed (its digest): a contact saved meanwhile shows the preview again instead.
"""

import io
import secrets
import time
from dataclasses import dataclass, field
from datetime import timedelta
from http import HTTPStatus
from pathlib import PurePosixPath

from django import forms
from django.contrib import messages
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from regions.admin_history import change_line
from regions.models import Region
from regions.spreadsheets import XLSX_CONTENT_TYPE
from regions.validators import content_matches
from regions.views import attachment

from .importer import BATCH, ImportFailed, Plan, PlanChanged, import_rows, parse_table
from .models import Representative, split_phones
from .spreadsheets import COLUMNS, SpreadsheetError, check_size, exported, read_bytes, write_xlsx

EXTENSIONS = ("csv", "xlsx")
SHOWN_ITEMS = 200  # per list and region
SESSION_KEY = "representatives_import"
# Long enough to read a preview and check a few contacts, short enough that forgotten uploads
# do not pile up on the disk.
PENDING_SECONDS = 30 * 60
# In the default storage, which every web instance mounts (the media volume): the preview may
# be read by one instance and applied through another. Nothing serves MEDIA_ROOT by its paths
# (regions.urls: a stored path only redirects to a registry file's download), and the names
# are random, so these files of staff are never public.
PENDING_DIR = "representatives-import"
# The token of the last upload applied in this session: a second «Применить» (a double click, a
# reload of the POST) finds it and says so, instead of asking for the file again.
APPLIED_SESSION_KEY = "representatives_import_applied"
ALREADY_APPLIED = "Эта таблица уже загружена: повторно ничего не записано."
STALE = (
    "Пока вы смотрели на проверку, контакты изменились (их правили в админке или загрузили "
    "другую таблицу). Ничего не записано. Ниже — что файл изменит теперь: проверьте и нажмите "
    "«Применить» ещё раз."
)


class UploadForm(forms.Form):
    file = forms.FileField(
        label="Файл таблицы",
        help_text="CSV или XLSX (Excel), одна строка — один контакт, столбцы — как сказано "
        "выше. Сначала сайт покажет, что изменится, и ничего не запишет.",
        error_messages={"required": "Выберите файл таблицы.", "empty": "Файл пустой."},
    )
    prune = forms.BooleanField(
        label="Удалить контакты, которых нет в файле",
        help_text="Только в регионах, которые есть в файле. Не отмечено — такие контакты "
        "останутся на сайте.",
        required=False,
    )

    def __init__(self, *args, may_delete: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not may_delete:
            del self.fields["prune"]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        extension = PurePosixPath(upload.name).suffix.lower().lstrip(".")
        if extension not in EXTENSIONS:
            raise ValidationError(
                "Загрузите таблицу CSV или XLSX: файлы .%(ext)s сайт не читает. Сохраните "
                "таблицу как «CSV UTF-8» или «Книга Excel (.xlsx)».",
                code="extension",
                params={"ext": extension or "без расширения"},
            )
        try:
            check_size(upload.size)  # before reading it: the importer's own limit and words
        except SpreadsheetError as error:
            raise ValidationError(str(error), code="size") from error
        # A CSV's content is judged by the importer's reader: it reads the encodings spreadsheet
        # programs save (UTF-16's NUL bytes, which content_matches takes for binary, included)
        # and says what is wrong with the others.
        if extension == "xlsx" and not content_matches(extension, upload):
            raise ValidationError(
                "Это не таблица .%(ext)s: содержимое файла другое. Проверьте, что выбрали тот "
                "файл, и сохраните его как «CSV UTF-8» или «Книга Excel (.xlsx)».",
                code="content",
                params={"ext": extension},
            )
        data = upload.read()
        try:
            table = read_bytes(data, suffix=f".{extension}")
        except SpreadsheetError as error:
            raise ValidationError(str(error), code="unreadable") from error
        self.cleaned_data["table"] = table
        self.cleaned_data["data"] = data
        return upload


def summary(code: str, role: str, person: str, phones: str) -> str:
    """A contact in one line, as the preview lists it."""
    parts = [role, person, "; ".join(split_phones(phones))]
    return f"{code}: " + ", ".join(part for part in parts if part)


def saved_summary(representative: Representative) -> str:
    r = representative
    return summary(r.code, r.role, r.person, r.phones)


@dataclass
class Section:
    """A list of contacts on the preview: the first SHOWN_ITEMS of them, and how many in all
    (50,000 rows would make a page no one reads; the digest covers them all the same)."""

    shown: list = field(default_factory=list)
    total: int = 0

    def add(self, item) -> None:
        self.total += 1
        if len(self.shown) < SHOWN_ITEMS:
            self.shown.append(item)

    @property
    def more(self) -> int:
        return self.total - len(self.shown)


@dataclass
class RegionChanges:
    region: Region
    create: Section = field(default_factory=Section)
    change: Section = field(default_factory=Section)  # (summary, [(column, old, new)])
    remove: Section = field(default_factory=Section)
    keep: Section = field(default_factory=Section)  # absent from the file, kept


def by_region(plan: Plan) -> list[RegionChanges]:
    regions: dict[int, RegionChanges] = {}

    def of(region: Region) -> RegionChanges:
        return regions.setdefault(region.pk, RegionChanges(region))

    for row in plan.create:
        values = row.values
        line = summary(row.code, values["role"], values["person"], values["phones"])
        of(row.region).create.add(line)
    for change in plan.change:
        representative = change.representative
        of(representative.region).change.add((saved_summary(representative), change.differences))
    for representative in plan.absent:
        changes = of(representative.region)
        (changes.remove if plan.prune else changes.keep).add(saved_summary(representative))
    return sorted(regions.values(), key=lambda changes: changes.region.order)


def log_import(user_id: int, plan: Plan, name: str) -> None:
    """Each contact's «История» names who loaded which file and what it changed, from what to
    what (as admin's own edits do: regions.admin_history)."""
    source = f"загрузкой таблицы «{name}»"
    LogEntry.objects.log_actions(user_id, plan.created, ADDITION, f"Добавлен {source}.")
    changed_type = ContentType.objects.get_for_model(Representative, for_concrete_model=False)
    # Each message is the contact's own: one insert per batch, not per contact.
    LogEntry.objects.bulk_create(
        (
            LogEntry(
                user_id=user_id,
                content_type=changed_type,
                object_id=str(change.representative.pk),
                object_repr=str(change.representative)[:200],
                action_flag=CHANGE,
                change_message=f"Изменено {source}: "
                + "; ".join(change_line(*difference) for difference in change.differences)
                + ".",
            )
            for change in plan.change
        ),
        batch_size=BATCH,
    )
    LogEntry.objects.log_actions(
        user_id, plan.remove, DELETION, f"Удалён {source}: его не было в файле."
    )


def store_upload(data: bytes) -> str:
    """Keeps an upload's bytes until «Применить»; their name in the default storage."""
    remove_expired_uploads()
    return default_storage.save(f"{PENDING_DIR}/{secrets.token_hex(16)}", ContentFile(data))


def read_upload(name: str) -> bytes | None:
    try:
        with default_storage.open(name, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def remove_expired_uploads() -> None:
    """Uploads left unapplied past PENDING_SECONDS, whatever the session: most sessions that
    upload and leave never come back to drop their own."""
    try:
        _, names = default_storage.listdir(PENDING_DIR)
    except FileNotFoundError:
        return
    oldest = timezone.now() - timedelta(seconds=PENDING_SECONDS)
    for name in names:
        path = f"{PENDING_DIR}/{name}"
        try:
            expired = default_storage.get_modified_time(path) < oldest
        except FileNotFoundError:
            continue  # another instance removed it meanwhile
        if expired:
            default_storage.delete(path)


def discard_pending(request) -> None:
    pending = request.session.pop(SESSION_KEY, None)
    if pending and "file" in pending:  # one saved before PENDING_DIR held the bytes themselves
        default_storage.delete(pending["file"])


class SpreadsheetImportAdmin:
    """A ModelAdmin mixin for Representative: the «Загрузить из таблицы» pages."""

    import_form_template = "admin/representatives/representative/import_form.html"
    import_preview_template = "admin/representatives/representative/import_preview.html"

    def get_urls(self):
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="representatives_representative_import",
            ),
            path(
                # token_urlsafe() gives a slug; anything else is no token of ours (and
                # compare_digest refuses non-ASCII text).
                "import/<slug:token>/",
                self.admin_site.admin_view(self.import_preview_view),
                name="representatives_representative_import_preview",
            ),
            path(
                "export/",
                self.admin_site.admin_view(self.export_view),
                name="representatives_representative_export",
            ),
            *super().get_urls(),
        ]

    def export_view(self, request):
        """Every contact as the table «Загрузить из таблицы» reads back: download, edit, load."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        buffer = io.BytesIO()
        write_xlsx(exported(), buffer)
        return attachment(
            buffer.getvalue(),
            filename=f"predstaviteli-{timezone.localdate():%Y-%m-%d}.xlsx",
            content_type=XLSX_CONTENT_TYPE,
        )

    def changelist_view(self, request, extra_context=None):
        # Where staff come back to, a preview read or not: an upload left there goes here.
        self.drop_expired(request)
        extra_context = {"can_import": self.may_import(request), **(extra_context or {})}
        return super().changelist_view(request, extra_context)

    @staticmethod
    def drop_expired(request) -> None:
        pending = request.session.get(SESSION_KEY)
        # One saved before PENDING_DIR holds the bytes themselves: it goes at once.
        if pending and ("file" not in pending or time.time() - pending["at"] > PENDING_SECONDS):
            discard_pending(request)
            remove_expired_uploads()

    def may_import(self, request, *, prune: bool = False) -> bool:
        return (
            self.has_add_permission(request)
            and self.has_change_permission(request)
            and (not prune or self.has_delete_permission(request))
        )

    def check_import_permission(self, request, *, prune: bool = False) -> None:
        if not self.may_import(request, prune=prune):
            raise PermissionDenied

    def import_context(self, request, **context) -> dict:
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Загрузка контактов из таблицы",
            "columns": COLUMNS.values(),
            **context,
        }

    def import_view(self, request):
        may_delete = self.has_delete_permission(request)
        self.check_import_permission(request)
        if request.method != "POST":
            form = UploadForm(may_delete=may_delete)
            return self.render_upload(request, form)
        if request.POST.get("prune"):
            self.check_import_permission(request, prune=True)
        form = UploadForm(request.POST, request.FILES, may_delete=may_delete)
        if not form.is_valid():
            return self.render_upload(request, form)
        upload, prune = form.cleaned_data["file"], form.cleaned_data.get("prune", False)
        try:
            parse_table(form.cleaned_data["table"])
        except ImportFailed as failure:
            # Shown at once, not kept: there is nothing to apply.
            return self.render_preview(
                request, name=upload.name, failure=failure, form=UploadForm(may_delete=may_delete)
            )
        discard_pending(request)  # the upload it replaces can no longer be applied
        token = secrets.token_urlsafe(16)
        request.session[SESSION_KEY] = {
            "token": token,
            "name": upload.name,
            "file": store_upload(form.cleaned_data["data"]),
            "prune": prune,
            "at": time.time(),
        }
        return HttpResponseRedirect(
            reverse("admin:representatives_representative_import_preview", args=[token])
        )

    def render_upload(self, request, form, **context):
        return TemplateResponse(
            request, self.import_form_template, self.import_context(request, form=form, **context)
        )

    def pending(self, request, token: str) -> tuple[dict, bytes] | None:
        """The session's record of the upload the token names, and its bytes."""
        self.drop_expired(request)
        if (pending := request.session.get(SESSION_KEY)) is None:
            return None
        # A preview opened in another tab, then replaced by a newer upload, is refused: its
        # «Применить» would apply the other file.
        if not secrets.compare_digest(pending["token"], token):
            return None
        if (data := read_upload(pending["file"])) is None:
            del request.session[SESSION_KEY]  # removed as expired by another session's upload
            return None
        return pending, data

    def import_preview_view(self, request, token: str):
        self.check_import_permission(request)
        if secrets.compare_digest(request.session.get(APPLIED_SESSION_KEY, ""), token):
            messages.info(request, ALREADY_APPLIED)
            return HttpResponseRedirect(reverse("admin:representatives_representative_changelist"))
        found = self.pending(request, token)
        if found is None:
            messages.warning(
                request,
                "Эта проверка файла устарела или уже применена (проверка хранится "
                f"{PENDING_SECONDS // 60} минут, и только последняя загруженная). "
                "Загрузите файл снова.",
            )
            return HttpResponseRedirect(reverse("admin:representatives_representative_import"))
        pending, data = found
        self.check_import_permission(request, prune=pending["prune"])
        name, prune = pending["name"], pending["prune"]
        try:
            # Read again from the bytes: the regions it names may have changed too.
            rows = parse_table(read_bytes(data, suffix=PurePosixPath(name).suffix))
        except (ImportFailed, SpreadsheetError) as error:
            failure = error if isinstance(error, ImportFailed) else None
            return self.render_preview(
                request,
                name=name,
                failure=failure,
                unreadable=None if failure else str(error),
                form=UploadForm(may_delete=self.has_delete_permission(request)),
            )
        if request.method != "POST":
            plan = import_rows(rows, dry_run=True, prune=prune)
            return self.render_preview(request, name=name, plan=plan, token=token)
        try:
            with transaction.atomic():
                plan = import_rows(rows, prune=prune, expect=request.POST.get("digest", ""))
                log_import(request.user.pk, plan, name)
        except (PlanChanged, IntegrityError):
            # IntegrityError: a contact the plan would add was added meanwhile (SQLite locks
            # no rows to prevent it). Nothing was written: plan again and show it.
            plan = import_rows(rows, dry_run=True, prune=prune)
            return self.render_preview(
                request, name=name, plan=plan, token=token, stale=STALE, status=HTTPStatus.CONFLICT
            )
        discard_pending(request)
        request.session[APPLIED_SESSION_KEY] = token
        self.message_user(
            request,
            f"Изменено: {len(plan.change)}, добавлено: {len(plan.create)}, "
            f"удалено: {len(plan.remove)}.",
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:representatives_representative_changelist"))

    def render_preview(self, request, *, name: str, status: int = HTTPStatus.OK, **context):
        plan = context.get("plan")
        if plan is not None:
            context |= {"regions": by_region(plan), "digest": plan.digest}
        return TemplateResponse(
            request,
            self.import_preview_template,
            self.import_context(request, name=name, title=f"Проверка таблицы «{name}»", **context),
            status=status,
        )
