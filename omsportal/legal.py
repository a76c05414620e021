"""The legal texts the rights page cites, with the date our wording was checked against them.

Links go to the official legal portal (pravo.gov.ru). When the law or the Rules change, a
lawyer updates the page text, these links and CURRENT_ON together.
"""

import datetime
from dataclasses import dataclass


@dataclass(frozen=True)
class LegalReference:
    short: str
    title: str
    url: str
    approved_by: str = ""


CURRENT_ON = datetime.date(2026, 11, 25)

LAW_326 = LegalReference(
    short="часть 1 статьи 45 Федерального закона № 326-ФЗ",
    title="Федеральный закон от 29.11.2010 № 326-ФЗ «Об обязательном медицинском страховании "
    "в Российской Федерации»",
    url="http://pravo.gov.ru/proxy/ips/?docbody=&nd=102143783",
)

OMS_RULES = LegalReference(
    short="глава 16 Правил обязательного медицинского страхования",
    title="Правила обязательного медицинского страхования, утверждённые приказом Минздрава "
    "России от 28.02.2019 № 108н",
    # The official publication portal, where the order is found by its number: no deep link
    # to the document was verified, and a wrong one would send citizens to another act.
    url="http://publication.pravo.gov.ru/",
    approved_by="приказом Минздрава России от 28.02.2019 № 108н",
)
