"""Which person's form a pre-filled form is: its identity, carried in a
custom document property, and how a returned reading is tied to it.

`forms --roster` writes each person's (and each unit's) forms with 单位,
姓名 and 职务 already filled, and, for the measures forms, the risks already
declared. Each carries its identity (campaign, form, unit, person) in a
custom document property (docProps/custom.xml), which Word, WPS and
LibreOffice keep through editing and saving and which no one sees while
filling the form. Intake ties the form to that person even when the name is
typed differently, and the measures to the declared risks even when a risk
is retyped; without the property (a form from elsewhere, or one copied into
a new document) it matches as before, by the names written.

Pure: reading the property out of a file is pipeline.read.identity's.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from pipeline.core import crosscheck
from pipeline.core.model import FormIdentity, ParseResult, Problem

# The property's name as Word shows it (文件 → 属性 → 自定义).
PROPERTY = "廉政风险防控表格标识"
VERSION = 1
# Word keeps a text property to 255 characters: a longer identity (a unit
# name of a hundred characters) is not written, rather than cut and wrong.
MAX_CHARS = 255


def to_text(ident: FormIdentity) -> str | None:
    """The property's value, or None when it would not fit (MAX_CHARS)."""
    text = json.dumps({"v": VERSION, **ident.to_json()}, ensure_ascii=False, separators=(",", ":"))
    return text if len(text) <= MAX_CHARS else None


def parse(text: str | None) -> FormIdentity | None:
    """The identity in a property value; None for anything else (a property
    of that name someone typed, a later version's, damage)."""
    if not text or len(text) > MAX_CHARS:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("v") != VERSION:
        return None
    return FormIdentity.from_json(data)


def tie(result: ParseResult, ident: FormIdentity, declared: Sequence[str] = ()) -> ParseResult:
    """The reading tied to the form's identity: the unit and person as issued
    (a warning names what was typed instead), and for a measures form each
    row's risk as declared (`declared`: the risks the form was issued with,
    in their order) when its name was retyped. A reading of another form
    kind than the one issued is left as it is (the form was replaced)."""
    if result.form != ident.form:
        return result
    warnings = list(result.warnings)
    unit, name = result.unit, result.name
    if not _same(unit, ident.unit):
        warnings.append(Problem("identity_unit", f"表上填写的单位“{unit or ''}”与下发表格所属单位“{ident.unit}”不同，已按下发表格登记为{ident.unit}。", "表头“单位”"))
    if ident.person is not None and not _same(name, ident.person):
        warnings.append(Problem("identity_name", f"表上填写的姓名“{name or ''}”与下发表格所属人员“{ident.person}”不同，已按下发表格登记为{ident.person}。", "表头“姓名”"))
    rows, retyped = _tie_risks(result.rows, declared) if declared else (result.rows, [])
    for number, typed, risk in retyped:
        warnings.append(Problem("identity_risk", f"第{number}行的风险名称“{typed}”与下发时列出的“{risk}”不同，已按下发时的风险登记。", f"第{number}行“风险名称”"))
    person = ident.person if ident.person is not None else result.name
    return replace(result, unit=ident.unit, name=person, rows=rows, warnings=warnings)


def _same(a: str | None, b: str | None) -> bool:
    return crosscheck.text_key(a or "") == crosscheck.text_key(b or "")


def _tie_risks(rows: list[dict[str, Any]], declared: Sequence[str]) -> tuple[list[dict[str, Any]], list[tuple[int, str, str]]]:
    """Rows whose risk matches a declared one stay; a row whose risk matches
    none takes the declared risk at its place (the n-th filled row, the n-th
    risk issued) when that one is not claimed by another row. Returns the
    rows and (row number, typed, declared) for each risk retyped."""
    keys = {crosscheck.text_key(r): r for r in declared}
    claimed = {crosscheck.text_key(str(row.get("risk") or "")) for row in rows} & keys.keys()
    out, retyped = [], []
    for i, row in enumerate(rows):
        typed = str(row.get("risk") or "")
        if crosscheck.text_key(typed) in keys or i >= len(declared) or not typed:
            out.append(row)
            continue
        risk = declared[i]
        if crosscheck.text_key(risk) in claimed:
            out.append(row)
            continue
        claimed.add(crosscheck.text_key(risk))
        out.append({**row, "risk": risk})
        retyped.append((i + 1, typed, risk))
    return out, retyped
