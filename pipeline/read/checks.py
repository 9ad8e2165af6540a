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
from pipeline.core.names import printable_name
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
    """Why no form was recognised, and what to do: the title or columns
    found, the form they come closest to and how they differ."""
    if read.alt_chunk and read.spec is None:
        return Problem(
            "embedded_html",
            "文件中的内容是以网页（HTML）格式嵌入的（从网上系统导出的文档常这样保存），本系统不读取这种嵌入内容。"
            "请用 Word 或 WPS 打开文件，选择“另存为”→“Word 文档（*.docx）”保存为新文件后重新提交。",
            None,
        )
    near = _closest_text(read)
    if read.foreign_title is not None:
        msg = (
            f"文件中的表格标题是“{_shown(read.foreign_title, 40)}”，不是下发的表格（{_TITLES}）之一，不作为表格接收。{near}"
            "如果要报送的是上述表格，请使用下发的空白表格填写后重新提交。"
        )
    elif read.title is not None:
        msg = (
            f"文件标题是《{read.title.title}》，但没有找到这张表应有的表格栏目"
            f"（{_column_list(read.title)}）。{near}请使用下发的空白表格填写，不要删改表头栏目，然后重新提交。"
        )
    elif read.tables == 0:
        msg = f"文件中没有表格，无法识别是哪一张表格。请使用下发的空白表格（{_TITLES}）填写后重新提交。"
    else:
        msg = (
            f"无法识别这是哪一张表格：既没有找到表格标题，表格的栏目也与下发的表格不符。{near}"
            f"请使用下发的空白表格（{_TITLES}）填写，不要删改标题和表头栏目，然后重新提交。"
        )
    return Problem("unknown_form", msg, None)


def _shown(text: str, limit: int = 20) -> str:
    """User text as quoted in a message: printable (control and direction
    characters escaped), on one line, not too long."""
    return _quote(printable_name(text.replace("\n", " ")), limit)


def _closest_text(read: FormRead) -> str:
    c = read.closest
    if c is None:
        return ""
    parts = []
    if c.missing:
        parts.append("缺少" + "".join(f"“{t}”" for t in c.missing if t != "序号" or len(c.missing) == 1) + "栏")
    if c.other:
        parts.append("多出" + "".join(f"“{_shown(t, 12)}”" for t in c.other[:5]) + ("等" if len(c.other) > 5 else "") + "栏")
    diff = "，".join(p for p in parts if not p.startswith("缺少栏"))
    return f"表格的栏目与{c.spec.label}最接近，但{diff}。" if diff else ""


def _column_list(spec: FormSpec) -> str:
    return "".join(f"“{c.title}”" for c in spec.columns if c.kind != "seq")


def _header_label(spec: FormSpec, key: str) -> str:
    hf = next(h for h in spec.header if h.key == key)
    return hf.label


def _looked(read: FormRead) -> str:
    """Where the reader looked for the header fields, as the clerk sees the form."""
    return "表格上方的文字和小表格" + ("以及页眉" if read.page_header else "（文件没有页眉）")


def _missing_field(read: FormRead, spec: FormSpec, key: str, what: str, how: str) -> str:
    """The message for a header field not read: blank after its label, or
    its label found nowhere; both say where the reader looked."""
    label = _header_label(spec, key)
    if key in read.labels:
        return f"表头“{label}：”后没有填写{what}（已查看{_looked(read)}）。请在“{label}：”后填写{how}后重新提交。"
    return f"没有找到表头的“{label}”一项（已查看{_looked(read)}）。请在表格上方写上“{label}：{how}”后重新提交。"


def _header_errors(read: FormRead, spec: FormSpec) -> list[Problem]:
    out: list[Problem] = []
    if not read.fields.get("unit"):
        label = _header_label(spec, "unit")
        out.append(Problem("missing_unit", _missing_field(read, spec, "unit", "单位", "本单位的全称"), f"表头“{label}”"))
    if spec.personal and not read.fields.get("name"):
        out.append(Problem("missing_name", _missing_field(read, spec, "name", "姓名", "本人姓名"), "表头“姓名”"))
    return out


def _header_warnings(read: FormRead, spec: FormSpec) -> list[Problem]:
    out: list[Problem] = []
    if spec.personal and not read.fields.get("position"):
        out.append(
            Problem(
                "missing_position",
                f"表头没有填写职务（已查看{_looked(read)}）。请在“职务：”后填写本人职务（无职务可填“科员”等岗位名称）。",
                "表头“职务”",
            )
        )
    if read.from_page_header:
        names = "、".join(f"“{_header_label(spec, k)}”" for k in (h.key for h in spec.header) if k in read.from_page_header)
        out.append(
            Problem(
                "header_in_page_header",
                f"表头的{names}是从页眉中读取的（表格上方没有填写），请核对。今后请填写在表格上方的“单位：”“姓名：”等处。",
                "页眉",
            )
        )
    d = read.date
    if d is None or d.blank:
        out.append(Problem("missing_date", "表头没有填写填表日期（“年 月 日”处）。建议补填，如 2012年6月25日。", "表头“日期”"))
    elif d.problem == "invalid":
        out.append(
            Problem(
                "bad_date",
                f"填表日期“{_shown(d.written)}”不是有效的日期，已按未填写处理。请核对后改正，如 2012年6月25日。",
                "表头“日期”",
            )
        )
    elif d.problem == "incomplete":
        out.append(
            Problem(
                "bad_date",
                f"填表日期“{_shown(d.written)}”不完整（年、月、日缺少一项），已按未填写处理。请补全，如 2012年6月25日。",
                "表头“日期”",
            )
        )
    elif d.problem == "short_year":
        out.append(
            Problem(
                "bad_date",
                f"填表日期“{_shown(d.written)}”的年份只写了两位，已按未填写处理。请写全四位年份，如 2012年6月25日。",
                "表头“日期”",
            )
        )
    if spec.signature and not read.signatory:
        label = spec.signature.rstrip("：:")
        out.append(Problem("missing_signatory", f"表格下方“{label}”处没有签字。请单位领导签字后提交。", f"表格下方“{label}”"))
    out += _carried_warnings(read, spec)
    for heading in read.extras:
        out.append(
            Problem(
                "extra_column",
                f"表格中多了“{_shown(heading, 12)}”栏，这不是{spec.label}的栏目。这一栏的内容已随表格一并记录，但不进入汇总；"
                "如有需要说明的内容，请写在相应的栏目中。",
                f"表头“{_shown(heading, 12)}”",
            )
        )
    return out


def _rows_text(rows: tuple[int, ...]) -> str:
    """第2行, 第2、3行, 第2至5行 (consecutive rows as a range)."""
    if len(rows) == 1:
        return f"第{rows[0]}行"
    if rows == tuple(range(rows[0], rows[-1] + 1)) and len(rows) > 2:
        return f"第{rows[0]}至{rows[-1]}行"
    return "第" + "、".join(map(str, rows)) + "行"


def _carried_warnings(read: FormRead, spec: FormSpec) -> list[Problem]:
    titles = _TITLES_BY_KEY[spec.kind]
    out = []
    for c in read.carried:
        title = titles.get(c.key, c.key)
        out.append(
            Problem(
                "carried_down",
                f"{_rows_text(c.rows)}的“{title}”没有填写，已按第{c.source}行的“{title}”读取（视为同一组）。"
                f"如果不是同一组，请在这些行分别填写“{title}”；同一组的格子也可以合并为一格。",
                f"第{c.rows[0]}行“{title}”",
            )
        )
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
