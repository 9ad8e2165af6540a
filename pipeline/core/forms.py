"""The four forms of the plan (附件1–4), defined once, as data.

This definition drives the blank forms (blank.py), the reader (reader.py) and
the checks (checks.py). Change a form here and all three follow.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    key: str  # the JSON name in `parse --json` rows
    title: str  # the header text printed on the form
    width_mm: float  # width on the blank form
    aliases: tuple[str, ...] = ()  # other spellings seen in the header row
    merged: bool = False  # people merge this column vertically over groups of rows
    required: bool = False  # a filled row must have it
    kind: str = "text"  # "text", "seq" or "level"


@dataclass(frozen=True)
class HeaderField:
    key: str  # "unit", "name", "position"
    label: str  # as printed: 单位 / 姓名 / 职务 / 单位（盖章）
    aliases: tuple[str, ...] = ()
    blank_width: int = 10  # full-width spaces after the label on the blank form


@dataclass(frozen=True)
class FormSpec:
    kind: str
    attachment: int
    title: str
    personal: bool
    header: tuple[HeaderField, ...]
    columns: tuple[Column, ...]
    note: str | None = None  # the 备注 paragraph under the table
    signature: str | None = None  # the label under the table, e.g. 单位领导签字：
    landscape: bool = True
    # (month, day) of the campaign year by which the form must reach the office
    # (领导小组办公室): the one deadline lateness is judged by.
    office_deadline: tuple[int, int] = (9, 30)
    # (month, day) by which it goes to the filler's own unit first, when the
    # plan routes it so (individuals give 附件1 to their unit by 6/30). Shown as
    # information only: the office never sees that hand-over, so it never
    # makes a form late.
    unit_deadline: tuple[int, int] | None = None
    # The office deadline falls in the campaign year plus this (issue 14: the
    # 落实情况 of a year's measures is reported the following June).
    deadline_year: int = 0

    @property
    def default_deadline(self) -> tuple[int, int]:
        """The office deadline (the name this field had before the routing was modelled)."""
        return self.office_deadline

    @property
    def label(self) -> str:
        """How a clerk names the form: 附件1《个人廉政风险排查评估表》."""
        return f"附件{self.attachment}《{self.title}》"

    def column(self, key: str) -> Column | None:
        return next((c for c in self.columns if c.key == key), None)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(c.key for c in self.columns)

    @property
    def has_level(self) -> bool:
        return any(c.kind == "level" for c in self.columns)


# Rows on the blank form: 1–4 numbered, then a "……" row meaning "add more".
BLANK_ROWS = 4
ELLIPSIS_MARKS = ("……", "…", "...", "。。。", "......", "⋯⋯", "⋯")

LEVEL_NAMES = {1: "一级", 2: "二级", 3: "三级"}

# How people mark one level among the printed choices (`□一级 □二级 ☑三级`):
# the marks that mean "this one" and those that mean "not this one".
CHECKED_MARKS = "☑■√✓✔☒▣●"
UNCHECKED_MARKS = "□☐○"
# Words written after a level that do not change it: 三级风险.
LEVEL_SUFFIXES = ("风险",)
# What the printed stamp place leaves in the unit's name: 单位（盖章）：（章）后勤管理处.
STAMP_WORDS = ("章", "盖章", "公章", "印章", "签章")


def level_name(level: int) -> str:
    """一级, 二级, 三级. A recorded risk always has one of these (a form with
    another level is rejected); anything else is shown as the number itself."""
    return LEVEL_NAMES.get(level, str(level))

_UNIT = HeaderField("unit", "单位", aliases=("单位名称", "部门"), blank_width=10)
_NAME = HeaderField("name", "姓名", blank_width=7)
_POSITION = HeaderField("position", "职务", aliases=("职位", "岗位"), blank_width=10)
_UNIT_SEALED = HeaderField("unit", "单位（盖章）", aliases=("单位(盖章)", "单位", "单位名称"), blank_width=30)

_SEQ = Column("seq", "序号", 14, aliases=("编号",), kind="seq")
_RISK = Column("risk", "风险名称", 40, aliases=("风险点", "风险点名称"), required=True)
_CONTENT = Column("content", "风险内容及表现形式", 80, aliases=("风险内容", "表现形式", "风险内容和表现形式"))
_LEVEL = Column("level", "风险等级", 22, aliases=("等级",), required=True, kind="level")

_ASSESSMENT_NOTE = (
    "备注：本表中的廉政风险，指{who}可能产生不廉洁行为的危险。风险内容及表现形式，"
    "指包括但不仅限于{who}在履职中容易产生不廉洁行为的环节和事项等。风险等级：根据产生"
    "不廉洁行为的概率和影响程度，从低到高依次分为一级、二级、三级。"
)

PERSONAL_ASSESSMENT = FormSpec(
    kind="personal_assessment",
    attachment=1,
    title="个人廉政风险排查评估表",
    personal=True,
    header=(_UNIT, _NAME, _POSITION),
    columns=(
        Column("duty", "岗位职责", 40, aliases=("岗位职能", "职责"), merged=True),
        _SEQ,
        _RISK,
        _CONTENT,
        _LEVEL,
        Column("review", "单位审核意见", 40, aliases=("审核意见",), merged=True),
    ),
    note=_ASSESSMENT_NOTE.format(who="公职人员"),
    # The plan: 个人…于6月30日以前报所在单位；各单位…于9月30日以前，将材料报送…领导小组办公室.
    office_deadline=(9, 30),
    unit_deadline=(6, 30),
)

UNIT_ASSESSMENT = FormSpec(
    kind="unit_assessment",
    attachment=2,
    title="单位廉政风险排查评估表",
    personal=False,
    header=(_UNIT_SEALED,),
    columns=(
        Column("duty", "单位职能", 40, aliases=("职能",), merged=True),
        _SEQ,
        _RISK,
        _CONTENT,
        _LEVEL,
        Column("review", "负责人签字", 40, aliases=("负责人签名", "负责人"), merged=True),
    ),
    note=_ASSESSMENT_NOTE.format(who="单位"),
    office_deadline=(9, 30),
)

PERSONAL_MEASURES = FormSpec(
    kind="personal_measures",
    attachment=3,
    title="个人廉政风险防控措施意见和建议表",
    personal=True,
    header=(_UNIT, _NAME, _POSITION),
    columns=(
        _SEQ,
        Column("risk", "风险名称", 55, aliases=("廉政风险名称", "风险点"), required=True),
        Column("measure", "防控措施意见和建议", 120, aliases=("防控措施", "防控措施意见", "措施意见和建议"), required=True),
        Column("review", "单位审核意见", 45, aliases=("审核意见",), merged=True),
    ),
    signature="单位领导签字：",
    office_deadline=(11, 30),
)

UNIT_MEASURES = FormSpec(
    kind="unit_measures",
    attachment=4,
    title="单位制定廉政风险防控措施表",
    personal=False,
    header=(_UNIT_SEALED,),
    columns=(
        _SEQ,
        Column("risk", "廉政风险名称", 55, aliases=("风险名称", "风险点"), required=True),
        Column("measure", "防控措施", 140, aliases=("防控措施意见和建议", "措施"), required=True),
        Column("note", "备注", 30),
    ),
    signature="单位领导签字：",
    office_deadline=(11, 30),
)

FORMS: tuple[FormSpec, ...] = (PERSONAL_ASSESSMENT, UNIT_ASSESSMENT, PERSONAL_MEASURES, UNIT_MEASURES)
BY_KIND: dict[str, FormSpec] = {f.kind: f for f in FORMS}

# The assessment form each measures form answers (to match measures to risks).
MEASURES_FOR = {"personal_measures": "personal_assessment", "unit_measures": "unit_assessment"}


def spec(kind: str) -> FormSpec:
    """The form definition for a kind; KeyError names the unknown kind."""
    return BY_KIND[kind]


# ---------------------------------------------------------------------------
# The fifth form (issue 14): how each unit reports that its measures were
# carried out (the plan's (四) 加强廉情监控 and (五) 开展考评检查). One form a
# unit, pre-filled from the register with every risk in force and its
# measures (app/prefill.py); 风险编号 is the workbook's stable id
# (core/riskid.py), so that a row comes back tied to its risk whatever the
# clerk retypes. Its year: the measures set by 11/30 are carried out in the
# following months, so it reaches the office by 6/30 of the NEXT year,
# reported into the campaign whose measures it follows (deadline_year=1).

IMPLEMENTATION_STATES = ("已落实", "部分落实", "未落实")

IMPLEMENTATION = FormSpec(
    kind="implementation",
    attachment=5,
    title="廉政风险防控措施落实情况表",
    personal=False,
    header=(_UNIT_SEALED,),
    columns=(
        Column("seq", "序号", 11, aliases=("编号",), kind="seq"),
        Column("risk_id", "风险编号", 26, aliases=("风险代码",)),
        Column("risk", "风险名称", 28, aliases=("廉政风险名称", "风险点"), required=True),
        Column("level", "风险等级", 15, aliases=("等级",), required=True, kind="level"),
        Column("measure", "防控措施", 40, aliases=("防控措施意见和建议", "措施")),
        Column("owner", "责任人", 16, aliases=("责任人员", "负责人")),
        Column("state", "落实情况", 18, aliases=("落实状态", "完成情况"), required=True),
        Column("done", "完成时间", 18, aliases=("完成日期", "落实时间")),
        Column("evidence", "佐证材料", 30, aliases=("佐证", "证明材料")),
        Column("problem", "存在问题", 34, aliases=("存在的问题", "问题及原因")),
    ),
    note=(
        "备注：落实情况填“已落实”“部分落实”或“未落实”。风险等级为三级的措施未落实的，"
        "须在“存在问题”中写明原因和整改打算。风险编号由领导小组办公室预填，请勿改动。"
    ),
    signature="单位领导签字：",
    office_deadline=(6, 30),
    deadline_year=1,
)

FORMS = (*FORMS, IMPLEMENTATION)
BY_KIND[IMPLEMENTATION.kind] = IMPLEMENTATION
