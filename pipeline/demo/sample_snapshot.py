"""Sample data for the templates: a small register and a rejected submission
with every case a document must show. The templates check, the tests of the
templates and the page review render every template from this; it is demo
data, so it lives here and not in the runtime core.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pipeline.core.config import Config
from pipeline.core.facts import PERSONAL_ASSESSMENT, PERSONAL_MEASURES, UNIT_ASSESSMENT
from pipeline.core.model import Finding, Measure, Problem, RiskPoint, Snapshot, Submission
from pipeline.docs import templates_check


def sample_snapshot(cfg: Config | None = None) -> Snapshot:
    """A small register with every case a document must show: several people
    with merged duties, a unit's own risks, measures present and absent, a late
    form, a missing form, and text with characters that need escaping."""
    cfg = cfg or Config()
    units = list(cfg.units) or ["教务处"]
    u1, u2 = units[0], units[1 % len(units)]
    t = datetime(cfg.year, 6, 20, 9, 30)
    subs = [
        Submission(1, f"{u1}-王丽华.docx", "a" * 64, t, "accepted", PERSONAL_ASSESSMENT, u1, "王丽华", "科长"),
        Submission(2, f"{u1}-李明.docx", "b" * 64, t.replace(day=25), "accepted", PERSONAL_ASSESSMENT, u1, "李明", "科员"),
        Submission(3, f"{u1}.docx", "c" * 64, t.replace(month=9, day=28), "accepted", UNIT_ASSESSMENT, u1),
        Submission(4, f"{u1}-王丽华-措施.docx", "d" * 64, t.replace(month=11, day=2), "accepted", PERSONAL_MEASURES, u1, "王丽华", "科长"),
        Submission(5, f"{u2}-张三.docx", "e" * 64, t.replace(month=10, day=3), "accepted", PERSONAL_ASSESSMENT, u2, "张三", "副处长", late=True),
        Submission(
            6, f"{u2}-草稿.docx", "f" * 64, t.replace(month=7, day=4), "rejected", None, u2,
            errors=[Problem("bad_level", "风险等级只能填一级、二级或三级。", "第2行“风险等级”")],
        ),
    ]
    risks = [
        RiskPoint(1, u1, "王丽华", "科长", "考试命题与印刷", 1, "试卷泄密", "命题、印刷、保管环节管理不严", 3, "同意。", subs[0].file, "实行命题、印刷、保管分段负责，全程监控。"),
        RiskPoint(1, u1, "王丽华", "科长", "考试命题与印刷", 2, "印刷厂选择", "指定印刷厂时收受好处", 2, "同意。", subs[0].file, "印刷厂由学校集中采购确定。"),
        RiskPoint(1, u1, "王丽华", "科长", "成绩管理", 3, "篡改成绩", "利用系统权限修改成绩（A&B <x>）", 3, "同意。", subs[0].file),
        RiskPoint(2, u1, "李明", "科员", "教材征订", 1, "教材回扣", "征订教材时收受回扣", 2, "同意。", subs[1].file),
        RiskPoint(3, u1, None, None, "教学管理", 1, "专业设置", "专业设置论证不充分、暗箱操作", 2, "张某", subs[2].file),
        RiskPoint(3, u1, None, None, "教学管理", 2, "教学评估", "评估结果弄虚作假", 1, "张某", subs[2].file),
        RiskPoint(5, u2, "张三", "副处长", "干部选拔", 1, "用人不正之风", "在干部考察中徇私", 3, "同意。", subs[4].file),
    ]
    measures = [
        Measure(4, u1, "王丽华", 1, "试卷泄密", "实行命题、印刷、保管分段负责，全程监控。", "同意。", subs[3].file),
        Measure(4, u1, "王丽华", 2, "印刷厂选择", "印刷厂由学校集中采购确定。", "同意。", subs[3].file),
    ]
    findings = [Finding("measure_unmatched", "王丽华的防控措施表中没有对应“篡改成绩”的措施。", u1, "王丽华", 4)]
    # 动态调整: 王丽华's first form, replaced by no. 1 — 印刷厂选择 was 三级 (lowered),
    # 监考安排 is dropped, 篡改成绩 is new (core/changes.py).
    first = Submission(7, f"{u1}-王丽华-初稿.docx", "7" * 64, t.replace(day=15), "superseded", PERSONAL_ASSESSMENT,
                       u1, "王丽华", "科长", superseded_by=1)  # fmt: skip
    subs.append(first)
    superseded = [
        RiskPoint(7, u1, "王丽华", "科长", "考试命题与印刷", 1, "试卷泄密", "命题、印刷、保管环节管理不严", 3, "同意。", first.file),
        RiskPoint(7, u1, "王丽华", "科长", "考试命题与印刷", 2, "印刷厂选择", "指定印刷厂时收受好处", 3, "同意。", first.file),
        RiskPoint(7, u1, "王丽华", "科长", "考务管理", 3, "监考安排", "监考安排不公", 1, "同意。", first.file),
    ]
    return Snapshot(datetime(cfg.year, 12, 1, 8, 0), subs, risks, measures, findings, superseded_risks=superseded)


def sample_rejected(cfg: Config | None = None) -> Submission:
    """A rejected submission for the rejection-notice template."""
    cfg = cfg or Config()
    unit = (list(cfg.units) or ["教务处"])[0]
    return Submission(
        9, f"{unit}/王丽华 个人表.docx", "9" * 64, datetime(cfg.year, 6, 25, 14, 3), "rejected",
        PERSONAL_ASSESSMENT, unit, "王丽华", "科长",
        errors=[
            Problem("bad_level", "风险等级只能填写一级、二级或三级（也可写 1、2、3）。请改为其中之一。", "第2行“风险等级”"),
            Problem("missing_risk", "这一行填写了风险内容，但“风险名称”是空的。请补上风险名称，或删除整行。", "第3行“风险名称”"),
        ],
        warnings=[Problem("date_missing", "表头没有填写日期。", "表头")],
    )


def sample_contexts(cfg: Config | None = None) -> dict[str, list[dict[str, Any]]]:
    """Contexts per template from the sample data, covering the branches of
    each (rows and no rows, problems and warnings): what the templates check
    renders every template with."""
    cfg = cfg or Config()
    return templates_check.contexts_for(cfg, sample_snapshot(cfg), sample_rejected(cfg))
