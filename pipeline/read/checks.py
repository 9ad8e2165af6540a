"""Single-file checks: what is wrong with one form as read, in words a unit
clerk can act on. Pure functions from reader.FormRead to problems.

Errors block acceptance; warnings never do. Every problem of a file is
reported at once, so that a clerk fixes everything in one go. `where` points
into the form as the clerk sees it: `第2行“风险等级”` counts table rows down
from the header row (blank rows included), `表头“单位”` is the line above it.
"""

from __future__ import annotations

from typing import Any

from pipeline.read import values
from pipeline.core import follow
from pipeline.core.forms import FORMS, IMPLEMENTATION, FormSpec
from pipeline.core.model import Problem
from pipeline.read.ooxml import too_many_rows_message
from pipeline.read.reader import FormRead, RowRead, substantive_keys

_TITLES = "".join(f"《{f.title}》" for f in FORMS)


def check(read: FormRead) -> tuple[list[Problem], list[Problem]]:
    """(errors, warnings) for one form as read."""
    if read.spec is None:
        return [unknown_form(read)], _tracked(read)
    spec = read.spec
    errors: list[Problem] = []
    warnings: list[Problem] = list(read.notes)
    errors += _header_errors(read, spec)
    warnings += _header_warnings(read, spec)
    if not read.rows:
        errors.append(
            Problem(
                "no_rows",
                f"{spec.label}的表格中没有填写任何内容。请在表格中逐行填写"
                f"{_column_list(spec)}后重新提交。",
                None,
            )
        )
    for row in read.rows:
        errors += row_errors(row, spec)
    warnings += _tracked(read)
    return errors, warnings


def unknown_form(read: FormRead) -> Problem:
    if read.title is not None:
        msg = (
            f"文件标题是《{read.title.title}》，但没有找到这张表应有的表格栏目"
            f"（{_column_list(read.title)}）。请使用下发的空白表格填写，不要删改表头栏目，然后重新提交。"
        )
    elif read.tables == 0:
        msg = f"文件中没有表格，无法识别是哪一张表格。请使用下发的空白表格（{_TITLES}）填写后重新提交。"
    else:
        msg = (
            f"无法识别这是哪一张表格：既没有找到表格标题，表格的栏目也与下发的表格不符。"
            f"请使用下发的空白表格（{_TITLES}）填写，不要删改标题和表头栏目，然后重新提交。"
        )
    return Problem("unknown_form", msg, None)


def _column_list(spec: FormSpec) -> str:
    return "".join(f"“{c.title}”" for c in spec.columns if c.kind != "seq")


def _header_label(spec: FormSpec, key: str) -> str:
    hf = next(h for h in spec.header if h.key == key)
    return hf.label


def _header_errors(read: FormRead, spec: FormSpec) -> list[Problem]:
    out: list[Problem] = []
    if not read.fields.get("unit"):
        label = _header_label(spec, "unit")
        out.append(
            Problem(
                "missing_unit",
                f"表头没有填写单位。请在表格上方“{label}：”后填写本单位的全称后重新提交。",
                f"表头“{label}”",
            )
        )
    if spec.personal and not read.fields.get("name"):
        out.append(
            Problem(
                "missing_name",
                "表头没有填写姓名。请在表格上方“姓名：”后填写本人姓名后重新提交。",
                "表头“姓名”",
            )
        )
    return out


def _header_warnings(read: FormRead, spec: FormSpec) -> list[Problem]:
    out: list[Problem] = []
    if spec.personal and not read.fields.get("position"):
        out.append(Problem("missing_position", "表头没有填写职务。请在“职务：”后填写本人职务（无职务可填“科员”等岗位名称）。", "表头“职务”"))
    d = read.date
    if d is None or d.blank:
        out.append(Problem("missing_date", "表头没有填写填表日期（“年 月 日”处）。建议补填，如 2012年6月25日。", "表头“日期”"))
    elif d.problem == "invalid":
        out.append(
            Problem(
                "bad_date",
                f"填表日期“{d.written}”不是有效的日期，已按未填写处理。请核对后改正，如 2012年6月25日。",
                "表头“日期”",
            )
        )
    elif d.problem == "incomplete":
        out.append(
            Problem(
                "bad_date",
                f"填表日期“{d.written}”不完整（年、月、日缺少一项），已按未填写处理。请补全，如 2012年6月25日。",
                "表头“日期”",
            )
        )
    if spec.signature and not read.signatory:
        label = spec.signature.rstrip("：:")
        out.append(Problem("missing_signatory", f"表格下方“{label}”处没有签字。请单位领导签字后提交。", f"表格下方“{label}”"))
    return out


def _where(row: RowRead, spec: FormSpec, key: str) -> str:
    return f"第{row.number}行“{_TITLES_BY_KEY[spec.kind].get(key, key)}”"


def _quote(text: str, limit: int = 20) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


_TITLES_BY_KEY = {f.kind: {c.key: c.title for c in f.columns} for f in FORMS}
_MEASURE_TITLE = {f.kind: (f.column("measure").title if f.column("measure") else None) for f in FORMS}


def row_errors(row: RowRead, spec: FormSpec) -> list[Problem]:
    """Problems of one filled row: a risk without level or measure, a level
    that is not one of the three, content without a risk name."""
    out: list[Problem] = []
    v = row.values
    titles = _TITLES_BY_KEY[spec.kind]
    risk = v.get("risk", "").strip()
    risk_title = titles["risk"]
    if not risk or values.is_ellipsis(risk):
        filled = [titles[k] for k in substantive_keys(spec) if k != "risk" and v.get(k)]
        what = "".join(f"“{t}”" for t in filled) or "内容"
        out.append(
            Problem(
                "missing_risk",
                f"第{row.number}行填写了{what}，但没有填写“{risk_title}”。请补上风险名称；"
                "如果这一行不需要，请清空整行后重新提交。",
                _where(row, spec, "risk"),
            )
        )
    if "level" in titles:
        level_text = v.get("level", "").strip()
        if level_text and values.parse_level(level_text) is None:
            out.append(
                Problem(
                    "bad_level",
                    f"第{row.number}行的风险等级写的是“{_quote(level_text)}”，无法识别。风险等级只能填"
                    "“一级”“二级”或“三级”（也可写 1、2、3），请改正后重新提交。",
                    _where(row, spec, "level"),
                )
            )
        elif not level_text and risk:
            out.append(
                Problem(
                    "missing_level",
                    f"第{row.number}行的风险“{_quote(risk)}”没有填写风险等级。请按产生不廉洁行为的概率和影响程度"
                    "填写“一级”“二级”或“三级”后重新提交。",
                    _where(row, spec, "level"),
                )
            )
    if spec.kind == IMPLEMENTATION.kind and risk:  # 落实情况 (issue 14): its own rules, in core
        out += follow.row_problems(row.number, v, values.parse_level(v.get("level", "")), lambda k: _where(row, spec, k))
    measure_title = _MEASURE_TITLE[spec.kind]
    # (落实情况 lists every risk in force, one with no measure set too: it says so, 未落实.)
    if measure_title is not None and risk and not v.get("measure", "").strip() and spec.kind != IMPLEMENTATION.kind:
        out.append(
            Problem(
                "missing_measure",
                f"第{row.number}行的风险“{_quote(risk)}”没有填写“{measure_title}”。请针对该风险填写防控措施后重新提交。",
                _where(row, spec, "measure"),
            )
        )
    return out


def limit_errors(read: FormRead, *, max_rows: int, max_cell_chars: int) -> list[Problem]:
    """A form over the configured limits: more filled rows than max_rows (one
    problem, nothing else is worth reading then), or cells longer than
    max_cell_chars. The same text in consecutive rows of a column (a merged
    cell, or one pasted down) is one problem naming the rows."""
    if read.spec is None:
        return []
    spec = read.spec
    if len(read.rows) > max_rows:
        return [Problem("too_many_rows", too_many_rows_message(max_rows, f"{spec.label}的表格中填写了 {len(read.rows)} 行"), None)]
    found: list[list[Any]] = []  # [key, text, first row, number of the last row], one per problem
    open_runs: dict[str, list[Any]] = {}  # key -> its entry in `found` that a next row may extend
    for row in read.rows:
        for key, text in row.values.items():
            if len(text) <= max_cell_chars:
                continue
            run = open_runs.get(key)
            if run is not None and run[1] == text and run[3] == row.number - 1:
                run[3] = row.number
                continue
            open_runs[key] = run = [key, text, row, row.number]
            found.append(run)
    titles = _TITLES_BY_KEY[spec.kind]
    out = []
    for key, text, row, last in found:
        rows = f"第{row.number}行" if last == row.number else f"第{row.number}至{last}行"
        out.append(
            Problem(
                "cell_too_long",
                f"{rows}“{titles.get(key, key)}”中的文字有 {len(text)} 个字，超过每格最多 {max_cell_chars} 个字的上限。"
                "请精简这一格的内容（不要把其他文件的全文粘贴进来）后重新提交。",
                _where(row, spec, key),
            )
        )
    return out


def _tracked(read: FormRead) -> list[Problem]:
    if not read.tracked_changes:
        return []
    return [
        Problem(
            "tracked_changes",
            "文件中有未处理的修订（修订痕迹）。已按“接受全部修订”后的内容读取，请核对；"
            "今后提交前请在 Word 或 WPS 的“审阅”中接受全部修订。",
            None,
        )
    ]
