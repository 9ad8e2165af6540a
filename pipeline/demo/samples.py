"""Realistic sample forms for the seven pilot units: the demo's inbox.

The data below is what the units of the plan would plausibly send in 2012:
staff of 组织部, 人事处, 教务处, 科研处, 资产管理处, 后勤管理处 and 财务处, each
naming the integrity risks of their own post, and the units' own assessments
and measures. It is written to tell a story the 通报 can report:

- most units send everything on time;
- 后勤管理处 is late (a person's 附件1 dated in July, the unit's 附件2 dated
  12 October) and 人事处 sends its 附件4 in December, after the 11-30 deadline;
- 科研处: two people have not sent their measures (附件3);
- 资产管理处 has not yet sent its unit measures (附件4);
- 教务处's 王丽华 sends her 附件1, then a corrected version (supersession);
- 财务处's 李明 drops the same file twice (a Windows "- 副本" copy: duplicate);
- a few faulty files: a level left blank, levels written 高/中/低, the unit
  left blank, a blank form sent by mistake, an Excel workbook renamed .docx,
  and a Word lock file `~$…` left by a crash, of a draft deleted since (ignored,
  left in the inbox; it holds no form back);
- the roster names two people who sent nothing.

Everything is plain data; `sample_files()` turns it into file bytes (through
`pipeline.docs.blank.build_form`) together with what a reader should find in each
file, so that tests can check the reader and the demo against the same data.
Deterministic: no randomness, no wall-clock dates; zip entry times are fixed.
"""

# Long on purpose: most of it is data (seven units' staff, their posts and risks,
# as the plan's units would write them), not code.

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from pipeline.core.config import Config
# Late as the office judges it (received after the office deadline); a sample is
# expected to be delivered on the day written on it: is_late(kind, when, when, cfg).
from pipeline.core.crosscheck import is_late
from pipeline.core.forms import BY_KIND
from pipeline.docs.blank import build_form

# ---------------------------------------------------------------------------
# The data: units, people, risks.


@dataclass(frozen=True)
class Risk:
    name: str  # 风险名称
    content: str  # 风险内容及表现形式
    level: int  # 1, 2 or 3
    measure: str  # 防控措施 (for the measures forms)
    note: str = ""  # 备注 on the unit measures form


@dataclass(frozen=True)
class Duty:
    text: str  # 岗位职责 / 单位职能, shared by the rows below it
    risks: tuple[Risk, ...]


@dataclass(frozen=True)
class SamplePerson:
    """A made-up member of a sample unit and the forms the demo writes for
    them (not pipeline.core.model.Person, who is only expected to send)."""

    name: str
    position: str  # 职务
    duties: tuple[Duty, ...]
    assessed: tuple[int, int]  # (month, day) written on 附件1
    measured: tuple[int, int] | None  # on 附件3; None: not sent (yet)
    # A first version of 附件1 later corrected (the corrected one is `duties`).
    draft: tuple[Duty, ...] | None = None
    draft_dated: tuple[int, int] | None = None
    copied: bool = False  # the clerk drops the 附件1 twice (same bytes)
    fault: str | None = None  # "level_missing", "level_words", "unit_blank"


@dataclass(frozen=True)
class Unit:
    name: str
    head: str  # signs 负责人签字 and 单位领导签字
    people: tuple[SamplePerson, ...]
    functions: tuple[Duty, ...]  # 单位职能 and the unit's own risks (附件2/附件4)
    assessed: tuple[int, int]  # on 附件2
    measured: tuple[int, int] | None  # on 附件4; None: not sent (yet)
    absent: tuple[tuple[str, str], ...] = ()  # on the roster, sent nothing
    naming: dict[str, str] = field(default_factory=dict)  # kind -> file name pattern


def R(name: str, content: str, level: int, measure: str, note: str = "") -> Risk:
    return Risk(name, content, level, measure, note)


def D(text: str, *risks: Risk) -> Duty:
    return Duty(text, tuple(risks))


UNITS: tuple[Unit, ...] = (
    Unit(
        name="组织部",
        head="陈建国",
        assessed=(9, 26),
        measured=(11, 27),
        naming={
            "personal_assessment": "附件1 个人廉政风险排查评估表（{name}）.docx",
            "personal_measures": "附件3 个人廉政风险防控措施意见和建议表（{name}）.docx",
            "unit_assessment": "附件2 {unit}单位廉政风险排查评估表.docx",
            "unit_measures": "附件4 {unit}单位制定廉政风险防控措施表.docx",
        },
        people=(
            SamplePerson(
                "陈建国", "部长", assessed=(6, 25), measured=(11, 20),
                duties=(
                    D("主持部务全面工作，负责中层干部选拔任用工作的组织实施",
                      R("干部选拔任用把关不严",
                        "对拟任人选的德才表现、廉洁自律情况把关不严，出现“带病提拔”“带病上岗”",
                        3, "严格执行《党政领导干部选拔任用工作条例》，拟任人选一律书面征求纪委意见，落实“凡提四必”。"),
                      R("说情打招呼",
                        "在干部推荐、考察、酝酿环节受人情关系干扰，为他人说情打招呼或接受请托",
                        3, "对说情打招呼一律登记并向党委报告，实行干部选拔任用工作全程纪实。")),
                    D("负责党建工作经费的审批",
                      R("党建经费审批不严", "对党建活动、干部培训经费把关不严，超标准、超范围开支",
                        2, "党建经费实行预算管理，大额支出经部务会研究，开支情况每年在部内公开。")),
                ),
            ),
            SamplePerson(
                "林志强", "副部长", assessed=(6, 26), measured=(11, 21),
                duties=(
                    D("协助部长工作，分管干部考核、干部监督和干部档案工作",
                      R("干部考核失之于宽", "年度考核、任期考核走过场，搞平衡、照顾，考核结果不能反映干部实绩",
                        2, "细化考核指标，考核结果在一定范围内公开，并与干部使用、奖惩挂钩。"),
                      R("干部监督不到位", "对领导干部个人有关事项报告核查不认真，对反映干部的来信不及时核实",
                        2, "建立干部监督信息台账，对来信反映的问题限期核实并反馈。"),
                      R("干部档案审核不严", "对出生日期、参加工作时间、学历学位等信息审核不严，导致档案造假",
                        3, "开展干部人事档案专项审核，档案材料收集、鉴别、归档实行双人经办。")),
                ),
            ),
            SamplePerson(
                "黄晓燕", "干部科科长", assessed=(6, 25), measured=(11, 21),
                duties=(
                    D("负责中层干部民主推荐、考察、任免的具体工作",
                      R("民主推荐组织不规范", "参加推荐人员范围不符合规定，推荐票统计不公开、不准确",
                        2, "推荐范围按规定事先确定并公布，计票由两人以上共同进行，纪委派员监督。"),
                      R("干部考察失真", "考察谈话范围不够、听取意见不全面，考察材料空泛，对问题有意回避",
                        3, "扩大考察谈话范围，考察组成员实行回避，考察材料由考察组集体审定签字。"),
                      R("泄露干部工作秘密", "泄露干部推荐、考察、酝酿、讨论决定等环节的情况",
                        3, "严格保密纪律，干部工作材料专柜存放、专人管理，泄密的严肃追究责任。")),
                    D("负责干部任免文件起草和干部信息管理",
                      R("任前公示流于形式", "公示期间反映的问题不调查核实，试用期满考核不认真",
                        2, "公示期间反映的问题一律调查核实并书面报告，试用期满严格考核。")),
                ),
            ),
            # Sends his 附件1 with the unit left blank (rejected, missing_unit).
            SamplePerson(
                "郑伟", "组织员", assessed=(6, 27), measured=None, fault="unit_blank",
                duties=(
                    D("负责党员发展、党员教育管理和党费收缴",
                      R("党员发展把关不严", "对入党积极分子培养考察不严，发展程序不规范、材料不齐全",
                        2, "发展党员实行预审和公示制度，材料由组织部集中审核。"),
                      R("党费管理不规范", "党费收缴后不及时上交入账，存在公款私存、挪用党费的风险",
                        3, "党费按月上交，专户存储，收缴、使用情况每半年公布一次。")),
                ),
            ),
        ),
        functions=(
            D("干部选拔任用",
              R("选人用人失察失误", "干部选拔任用工作把关不严、程序不规范，导致用人失察失误", 3,
                "严格执行干部选拔任用条例，落实“一报告两评议”和全程纪实制度。", "责任科室：干部科"),
              R("跑官要官、说情打招呼", "干部选拔任用中受跑官要官、说情打招呼等不正之风干扰", 3,
                "对说情打招呼一律登记报告，实行干部选拔任用工作责任追究。", "部长负总责")),
            D("干部监督管理",
              R("干部监督失之于软", "对干部苗头性、倾向性问题提醒不及时，监督流于形式", 2,
                "建立干部廉政档案，开展任前廉政谈话和诫勉谈话。", "责任科室：干部科")),
            D("党员发展与党费管理",
              R("党员发展质量不高", "发展党员重数量轻质量，程序执行不严格", 2,
                "发展党员计划报组织部审批，实行发展对象公示制度。", "责任科室：组织科"),
              R("党费管理不规范", "党费收缴、使用不规范，未专户存储", 2,
                "党费专户管理，收支情况定期公布，接受审计。", "责任科室：组织科")),
        ),
    ),
    Unit(
        name="人事处",
        head="吴国平",
        assessed=(9, 27),
        measured=(12, 5),  # after the 11-30 deadline
        absent=(("洪志明", "师资科科员"),),
        naming={
            "personal_assessment": "人事处 {name} 附件1.docx",
            "personal_measures": "人事处 {name} 附件3.docx",
            "unit_assessment": "人事处 附件2 单位廉政风险排查评估表.docx",
            "unit_measures": "人事处 附件4 单位制定廉政风险防控措施表.docx",
        },
        people=(
            SamplePerson(
                "吴国平", "处长", assessed=(6, 27), measured=(11, 26),
                duties=(
                    D("主持全面工作，负责人事制度改革、岗位设置和人员招聘工作",
                      R("人员招聘暗箱操作", "公开招聘中设置倾向性资格条件，在笔试、面试环节为特定人员提供便利",
                        3, "招聘方案经校长办公会审定，招聘信息、资格条件和拟聘结果全部公开，面试评委随机抽取。"),
                      R("岗位聘用不公", "专业技术岗位、管理岗位等级聘用不按规定条件和程序办理，照顾关系人员",
                        2, "岗位聘用条件和结果全校公示，接受教职工监督。")),
                ),
            ),
            SamplePerson(
                "蔡丽娟", "副处长", assessed=(6, 28), measured=(11, 26),
                duties=(
                    D("分管专业技术职务评审和教职工年度考核工作",
                      R("职称评审暗箱操作", "评委会组成和评审过程不公开，接受请托为申报人打招呼、拉票",
                        3, "评委从专家库随机抽取并在评审前保密，评审实行无记名投票，结果公示七天。"),
                      R("申报材料弄虚作假", "对申报人论文、获奖、业绩材料真实性审核把关不严",
                        3, "申报材料实行单位初审、人事处复审两级审核，论文一律查验检索证明。"),
                      R("考核评优不公", "年度考核优秀名额分配不公，搞平衡、轮流坐庄",
                        1, "优秀名额按比例分配到单位，考核结果公示。")),
                ),
            ),
            SamplePerson(
                "许文斌", "人才引进科科长", assessed=(6, 26), measured=(11, 23),
                duties=(
                    D("负责高层次人才引进和教师招聘的具体工作",
                      R("人才引进条件放宽", "降低引进条件，变通学历学位或业绩要求引进关系人员",
                        3, "引进条件由学术委员会论证并公开，不符合条件的一律不予引进。"),
                      R("引进待遇核定不实", "安家费、科研启动费核定和发放不按协议执行",
                        2, "引进待遇按学校标准核定，经人事处、财务处会签后发放。")),
                    D("负责人才引进协议的签订和履约管理",
                      R("违约责任追究不到位", "引进人才未履行服务期协议的，违约金追缴不到位",
                        2, "建立引进人才履约台账，违约的按协议追缴并报学校备案。")),
                ),
            ),
            SamplePerson(
                "苏雅琴", "劳资科科员", assessed=(6, 25), measured=(11, 23),
                duties=(
                    D("负责教职工工资核定、津贴补贴发放和社会保险缴纳",
                      R("工资核定不准", "晋级晋档、工资变动不按政策核定，多算或少算工资",
                        2, "工资变动实行经办人、科长、分管处领导三级审核。"),
                      R("违规发放津贴补贴", "超标准、超范围发放津贴补贴，或虚报冒领",
                        3, "津贴补贴发放依据和标准公开，发放清单由财务处复核。"),
                      R("社保基数申报不实", "社会保险缴费基数申报不实，漏报、少报",
                        1, "缴费基数每年核定一次，并与工资数据交叉核对。")),
                ),
            ),
        ),
        functions=(
            D("人员招聘与人才引进",
              R("招聘引进不公开不公正", "招聘和人才引进的条件、程序、结果不公开，照顾关系人员", 3,
                "招聘引进全过程公开，纪委全程监督，面试评委随机抽取。", "责任科室：人才引进科")),
            D("专业技术职务评审",
              R("职称评审不公", "评审材料审核不严，评审过程受人情干扰", 3,
                "评委随机抽取，评审结果公示，设立异议受理渠道。", "分管副处长负责")),
            D("工资福利管理",
              R("违规发放工资津贴补贴", "不按政策核定工资，超标准发放津贴补贴", 2,
                "工资津贴补贴发放实行三级审核，接受审计监督。", "责任科室：劳资科")),
            D("教职工考核与奖惩",
              R("考核奖惩不公", "考核评优搞平衡，奖惩不按规定执行", 1,
                "考核评优标准和结果公开，奖惩经处务会集体研究。", "")),
        ),
    ),
    Unit(
        name="教务处",
        head="刘德明",
        assessed=(9, 25),
        measured=(11, 26),
        naming={
            "personal_assessment": "{name}-个人廉政风险排查评估表.docx",
            "personal_measures": "{name}-个人廉政风险防控措施意见和建议表.docx",
            "unit_assessment": "{unit}单位廉政风险排查评估表.docx",
            "unit_measures": "{unit}单位制定廉政风险防控措施表.docx",
        },
        people=(
            SamplePerson(
                "刘德明", "处长", assessed=(6, 20), measured=(11, 19),
                duties=(
                    D("主持全面工作，负责教学经费和教学建设项目的审批",
                      R("教学经费审批把关不严", "对实验室建设、实践教学等经费审批把关不严，存在虚报、挪用",
                        2, "教学经费实行项目管理，大额支出经处务会集体研究。"),
                      R("教学建设项目评审不公", "专业建设、精品课程、教改项目评审受人情干扰",
                        2, "评审专家随机抽取，评审结果公示，本人申报的项目一律回避。")),
                ),
            ),
            # Sends a first version, then a corrected one (成绩篡改 raised to 三级,
            # a row added, dated later): the second supersedes the first.
            SamplePerson(
                "王丽华", "考务科科长", assessed=(6, 28), measured=(11, 20),
                draft_dated=(6, 22),
                draft=(
                    D("考试命题、印刷与成绩管理",
                      R("试卷泄密", "命题、印刷、保管、运送环节管理不严，导致试题泄露", 3, ""),
                      R("成绩篡改", "利用成绩管理系统权限擅自修改学生成绩", 2, ""),
                      R("考场安排不规范", "考场编排、监考安排不合理，为考试作弊提供便利", 2, "")),
                ),
                duties=(
                    D("考试命题、印刷与成绩管理",
                      R("试卷泄密", "命题、印刷、保管、运送环节管理不严，导致试题泄露",
                        3, "试卷印刷在保密室进行，全程监控；试卷交接双人签字，保密室双人双锁。"),
                      R("成绩篡改", "利用成绩管理系统权限擅自修改学生成绩",
                        3, "成绩录入后锁定，修改须经任课教师申请、学院和教务处审批，系统留痕并定期抽查。"),
                      R("考场安排不规范", "考场编排、监考安排不合理，为考试作弊提供便利",
                        2, "考场由系统随机编排，监考人员随机分配并实行回避。"),
                      R("补考重修管理不严", "补考、重修考试组织不严，为个别学生放宽要求",
                        2, "补考、重修与正常考试同等组织，试卷由考务科统一保管。")),
                ),
            ),
            SamplePerson(
                "张静", "教材科科长", assessed=(6, 21), measured=(11, 20),
                duties=(
                    D("负责教材选用、征订与发放",
                      R("教材征订收受回扣", "在教材选用、征订过程中收受出版发行单位回扣、礼品",
                        3, "教材供应商通过公开招标确定，教材折扣统一返还学生，严禁个人收受任何形式的回扣。"),
                      R("违规指定教材供应商", "违规指定或变相指定教材供应商",
                        2, "教材采购纳入学校集中采购，教材科不得自行选定供应商。"),
                      R("教材费结算不规范", "教材费收取、结算不及时，账目不清",
                        2, "教材费按学期结算，结算清单在学生中公开。")),
                ),
            ),
            SamplePerson(
                "杨帆", "学籍科科员", assessed=(6, 25), measured=(11, 22),
                duties=(
                    D("负责学生学籍管理",
                      R("学籍异动违规办理", "为不符合条件的学生办理转专业、复学、休学等学籍异动",
                        2, "学籍异动按规定条件审核，结果在学院公示，经办材料存档备查。")),
                    D("负责学历学位证书管理",
                      R("证书管理不严", "空白毕业证书、学位证书保管不严，违规补办证书",
                        2, "空白证书专柜存放、双人管理，领用、作废逐份登记。")),
                ),
            ),
            SamplePerson(
                "陈丽", "教学研究科科员", assessed=(6, 29), measured=(11, 22),
                duties=(
                    D("负责教改项目、教学成果奖申报与评审的组织工作",
                      R("教改项目评审不公", "评审专家遴选、评审过程受人情关系影响",
                        2, "评审专家从专家库随机抽取，评审结果公示。"),
                      R("项目经费监管不力", "对教改项目经费使用监管不力，存在挪用、虚报",
                        1, "项目经费按预算执行，结题时提交经费决算表。")),
                ),
            ),
        ),
        functions=(
            D("考试管理",
              R("考试泄密与舞弊", "命题、印刷、保管、运送环节泄密，考试组织不严导致舞弊", 3,
                "试卷印刷、保管实行保密室全程监控和双人双锁，考试实行巡考和视频监控。", "责任科室：考务科")),
            D("学籍与成绩管理",
              R("成绩篡改", "违规修改学生成绩", 3,
                "成绩录入后锁定，修改须经审批并系统留痕，每学期抽查。", "责任科室：考务科"),
              R("学籍违规处理", "为不符合条件的学生办理学籍异动", 2,
                "学籍异动结果公示，经办材料存档。", "责任科室：学籍科")),
            D("教材管理",
              R("教材征订商业贿赂", "教材选用、征订中收受回扣", 3,
                "教材供应商公开招标，折扣返还学生。", "责任科室：教材科")),
            D("教学建设与教学经费管理",
              R("教学经费使用不规范", "教学经费虚报、挪用，项目评审不公", 2,
                "教学经费项目化管理，评审专家随机抽取。", "")),
        ),
    ),
    Unit(
        name="科研处",
        head="何文涛",
        assessed=(9, 28),
        measured=(11, 28),
        naming={
            "personal_assessment": "{name}个人廉政风险排查评估表.docx",
            "personal_measures": "{name}个人廉政风险防控措施意见和建议表.docx",
            "unit_assessment": "科研处-单位廉政风险排查评估表.docx",
            "unit_measures": "科研处-单位制定廉政风险防控措施表.docx",
        },
        people=(
            SamplePerson(
                "何文涛", "处长", assessed=(6, 26), measured=(11, 23),
                duties=(
                    D("主持全面工作，负责科研项目立项和科研经费支出的审批",
                      R("科研项目推荐不公", "在上级项目推荐和校级项目立项中照顾关系，推荐结果不公",
                        3, "项目推荐由学术委员会评议，推荐结果公示，本人及亲属申报的项目一律回避。"),
                      R("科研经费审批把关不严", "对科研经费支出审批不严，违规列支与科研无关的开支",
                        3, "科研经费按预算审批，超预算或调整预算须经学校批准。")),
                ),
            ),
            # Has not sent 附件3.
            SamplePerson(
                "李海燕", "项目管理科科长", assessed=(6, 27), measured=None,
                duties=(
                    D("负责纵向、横向科研项目的申报、立项、中期检查和结题管理",
                      R("科研项目评审暗箱操作", "泄露评审专家名单，评审过程不公开",
                        3, "评审专家名单保密，评审过程全程记录。"),
                      R("结题验收走过场", "对结题材料审核不严，成果与立项内容不符也予以结题",
                        2, "结题实行专家鉴定，成果与立项内容逐项对照。")),
                    D("负责科研经费预算审核和报销初审",
                      R("科研经费报销不实", "以虚假发票、虚列劳务费、虚构会议等方式套取科研经费，初审把关不严",
                        3, "劳务费通过银行转账发放，会议费凭会议通知和签到表报销。"),
                      R("横向经费体外循环", "横向项目经费不进入学校账户，体外循环",
                        3, "横向合同一律经科研处登记，经费全部进入学校账户。")),
                ),
            ),
            # His 附件1 leaves one level blank (rejected).
            SamplePerson(
                "张伟", "成果管理科科员", assessed=(6, 26), measured=None, fault="level_missing",
                duties=(
                    D("负责科研成果登记、科研奖励核算和科研业绩考核",
                      R("科研成果认定不实", "对论文、著作、获奖等成果的真实性和级别认定把关不严",
                        2, "成果认定实行检索证明制度，认定结果公示。"),
                      R("科研奖励核算不准", "科研奖励不按标准核算，多发或重复发放",
                        2, "奖励核算实行两人复核，发放清单公示。"),
                      R("科研业绩考核不公", "科研业绩考核中照顾关系人员",
                        1, "考核标准和结果公开。")),
                ),
            ),
            # Has not sent 附件3.
            SamplePerson(
                "罗小红", "综合科科员", assessed=(6, 28), measured=None,
                duties=(
                    D("负责处内日常事务、科研统计和学术会议经费管理",
                      R("学术会议经费使用不规范", "学术会议超标准接待，会议费报销不实",
                        2, "会议经费按预算执行，凭会议通知、签到表和费用清单报销。"),
                      R("科研统计数据不实", "科研统计、报表数据弄虚作假",
                        1, "统计数据由成果登记系统生成，报送前由科长审核。")),
                ),
            ),
        ),
        functions=(
            D("科研项目管理",
              R("科研项目立项评审不公", "项目推荐、立项评审中照顾关系，评审不公开", 3,
                "立项评审专家随机抽取，评审结果公示。", "责任科室：项目管理科"),
              R("结题验收把关不严", "对结题材料审核不严，验收走过场", 2,
                "结题实行专家鉴定和成果对照。", "责任科室：项目管理科")),
            D("科研经费管理",
              R("科研经费报销不实", "虚列开支套取科研经费", 3,
                "劳务费银行转账发放，会议费凭会议材料报销，定期开展经费审计。", "会同财务处"),
              R("横向经费体外循环", "横向经费不进入学校账户", 3,
                "横向合同统一登记，经费全部进入学校账户。", "")),
            D("科研成果与奖励管理",
              R("科研成果认定不实", "成果认定把关不严，奖励多发、重发", 2,
                "成果认定实行检索证明制度，奖励发放清单公示。", "责任科室：成果管理科")),
        ),
    ),
    Unit(
        name="资产管理处",
        head="周志华",
        assessed=(9, 25),
        measured=None,  # 附件4 not sent yet
        naming={
            "personal_assessment": "资产处{name}廉政风险排查评估表.docx",
            "personal_measures": "资产处{name}防控措施意见和建议表.docx",
            "unit_assessment": "资产管理处单位廉政风险排查评估表.docx",
            "unit_measures": "资产管理处单位制定廉政风险防控措施表.docx",
        },
        people=(
            SamplePerson(
                "周志华", "处长", assessed=(6, 25), measured=(11, 26),
                duties=(
                    D("主持全面工作，负责国有资产管理和物资设备采购的审批",
                      R("采购审批把关不严", "对采购需求和采购方式审批把关不严，规避公开招标",
                        3, "采购方式按学校采购管理办法确定，达到限额的一律公开招标。"),
                      R("资产处置审批不规范", "大额资产处置、出租出借不按程序报批",
                        2, "资产处置一律经评估并按权限报批，处置结果公开。")),
                ),
            ),
            SamplePerson(
                "庄国栋", "副处长", assessed=(6, 27), measured=(11, 26),
                duties=(
                    D("分管招标采购和仪器设备验收工作",
                      R("干预招标采购", "利用职权为特定供应商提供便利，干预评标结果",
                        3, "不参与具体评标，评标专家从专家库随机抽取，纪委全程监督。"),
                      R("验收把关不严", "设备验收走过场，对以次充好、数量不足不予纠正",
                        2, "大型设备验收邀请使用单位和专家参加，验收报告集体签字。")),
                ),
            ),
            SamplePerson(
                "施明辉", "采购科科长", assessed=(6, 26), measured=(11, 27),
                duties=(
                    D("负责物资设备采购的组织实施",
                      R("招标采购围标串标", "招标文件设置倾向性条款，泄露标底或评标信息，投标人围标串标",
                        3, "招标文件经集体审核后发布，标底严格保密，发现围标串标的取消投标资格并列入黑名单。"),
                      R("化整为零规避招标", "将应公开招标的项目拆分为多个小项目，规避公开招标",
                        3, "同一年度同类采购合并计算金额，达到限额的一律公开招标。"),
                      R("收受供应商好处", "接受供应商宴请、礼品礼金、回扣",
                        3, "与供应商签订廉洁协议，拒收的礼品礼金登记上交。")),
                    D("负责采购合同的签订和履约管理",
                      R("合同签订不规范", "合同条款与招标文件不一致，擅自变更合同内容",
                        2, "合同文本经法律顾问审核，变更合同须报批。"),
                      R("付款审核不严", "未经验收或验收不合格即办理付款",
                        2, "付款凭验收报告办理，验收不合格的一律不付款。")),
                ),
            ),
            # Writes 高/中 instead of 一级/二级/三级 (rejected, bad_level).
            SamplePerson(
                "谢美玲", "资产管理科科员", assessed=(6, 28), measured=None, fault="level_words",
                duties=(
                    D("负责国有资产登记、清查和处置的具体工作",
                      R("资产账实不符", "资产入账不及时、登记不准确，造成账实不符、国有资产流失",
                        3, "资产验收后及时入账，每年开展一次全面清查。"),
                      R("低价处置国有资产", "资产报废、处置不按规定评估，低价处置或私自处置",
                        2, "资产处置一律评估，处置收入全部上缴学校。")),
                ),
            ),
        ),
        functions=(
            D("物资设备采购",
              R("招标采购围标串标", "招标文件设置倾向性条款，投标人围标串标", 3, ""),
              R("规避公开招标", "化整为零、虚假紧急采购等方式规避公开招标", 3, "")),
            D("合同与验收管理",
              R("验收走过场", "验收不严，以次充好、数量不足不予纠正", 2, "")),
            D("国有资产管理",
              R("国有资产流失", "资产账实不符，低价处置或私自处置国有资产", 2, ""),
              R("公房出租出借不规范", "公房出租出借不按程序审批，租金收缴不到位", 2, "")),
        ),
    ),
    Unit(
        name="后勤管理处",
        head="黄志明",
        assessed=(10, 12),  # after the 9-30 deadline
        measured=(11, 29),
        absent=(("王建新", "基建维修科科员"),),
        naming={
            "personal_assessment": "后勤处-{name}-排查评估表.docx",
            "personal_measures": "后勤处-{name}-防控措施表.docx",
            "unit_assessment": "后勤管理处（单位）排查评估表.docx",
            "unit_measures": "后勤管理处（单位）防控措施表.docx",
        },
        people=(
            SamplePerson(
                "黄志明", "处长", assessed=(6, 25), measured=(11, 27),
                duties=(
                    D("主持全面工作，负责基建维修工程和后勤服务项目的审批",
                      R("工程发包不规范", "对维修工程发包方式审批把关不严，指定施工单位",
                        3, "维修工程按限额分别采取公开招标、竞争性谈判，发包结果公开。"),
                      R("外包服务监管不力", "对食堂、物业等外包单位监管不力，考核流于形式",
                        2, "外包服务实行师生满意度测评，考核结果与服务费挂钩。")),
                ),
            ),
            SamplePerson(
                "林清泉", "基建维修科科长", assessed=(6, 26), measured=(11, 27),
                duties=(
                    D("负责基建维修工程的组织实施和现场管理",
                      R("工程变更签证虚增", "随意办理工程变更和现场签证，虚增工程量和工程造价",
                        3, "工程变更须经设计、监理、使用单位和分管处领导会签，签证附影像资料。"),
                      R("隐蔽工程验收不严",
                        "隐蔽工程验收不到场或验收走过场\n对偷工减料、以次充好不予纠正",
                        3, "隐蔽工程验收须监理、基建维修科两人以上到场，拍照存档。"),
                      R("接受施工单位好处", "接受施工单位宴请、礼金，或让施工单位为个人装修住房",
                        3, "与施工单位签订廉洁协议，设立举报电话。")),
                    D("负责工程结算初审和工程款拨付",
                      R("工程款拨付不规范", "不按合同约定和工程进度拨付工程款，超付工程款",
                        2, "工程款按进度和监理确认的工程量拨付，结算送审计处审核。"),
                      R("零星维修结算不实", "零星维修工程量不核实，虚报冒领维修费",
                        2, "零星维修实行派工单制度，使用单位签字确认工程量。")),
                ),
            ),
            SamplePerson(
                "郭秀英", "膳食科科长", assessed=(6, 28), measured=(11, 28),
                duties=(
                    D("负责学生食堂管理和原材料采购监管",
                      R("食堂采购收受回扣", "在大宗原材料定点采购中收受供应商回扣",
                        3, "大宗原材料定点采购公开招标，价格每月公示。"),
                      R("食品安全监管不到位", "对供应商资质、食材质量把关不严",
                        2, "供应商资质年审，食材进货索证索票、逐批验收。"),
                      R("饭菜价格核定不合理", "饭菜成本核算不实，损害学生利益",
                        1, "饭菜价格由伙食管理委员会审议，成本核算公开。")),
                ),
            ),
            # His 附件1 is dated after the 6-30 deadline.
            SamplePerson(
                "蔡俊杰", "物业管理科科员", assessed=(7, 9), measured=(11, 28),
                duties=(
                    D("负责校园物业服务的日常监管与考核",
                      R("物业考核走过场", "对物业服务质量考核不严，考核结果与服务费支付脱钩",
                        2, "物业考核每月一次，考核结果与服务费支付挂钩。"),
                      R("物业费用结算不实", "物业服务费、水电费结算审核不严",
                        2, "物业费用按合同结算，水电费按表计量并与财务处核对。")),
                ),
            ),
        ),
        functions=(
            D("基建维修工程管理",
              R("工程变更签证虚增", "随意变更和签证，虚增工程量和工程造价", 3,
                "工程变更和签证实行多方会签，重大变更报学校审批。", "责任科室：基建维修科"),
              R("工程发包不规范", "规避招标、指定施工单位", 3,
                "维修工程按限额公开招标或竞争性谈判。", "责任科室：基建维修科"),
              R("工程结算审核不严", "工程结算虚高，超付工程款", 2,
                "工程结算一律送审计处审核。", "会同审计处")),
            D("后勤服务管理",
              R("食堂采购商业贿赂", "大宗原材料采购中收受回扣", 3,
                "大宗原材料公开招标，价格每月公示。", "责任科室：膳食科"),
              R("外包服务监管不力", "外包服务考核流于形式", 2,
                "外包服务考核与服务费挂钩，引入师生测评。", "责任科室：物业管理科")),
        ),
    ),
    Unit(
        name="财务处",
        head="郑文华",
        assessed=(9, 26),
        measured=(11, 26),
        naming={
            "personal_assessment": "{name}-个人廉政风险排查评估表.docx",
            "personal_measures": "{name}-个人廉政风险防控措施意见和建议表.docx",
            "unit_assessment": "财务处单位廉政风险排查评估表.docx",
            "unit_measures": "财务处单位制定廉政风险防控措施表.docx",
        },
        people=(
            SamplePerson(
                "郑文华", "处长", assessed=(6, 22), measured=(11, 21),
                duties=(
                    D("主持全面工作，负责学校预算编制和大额资金支付审批",
                      R("预算分配不公", "预算编制中照顾关系单位，资金分配不公",
                        2, "预算分配标准公开，经校长办公会审定。"),
                      R("大额资金支付审批不严", "大额资金支付未经集体研究，审批把关不严",
                        3, "大额资金支付经集体研究并实行双签。")),
                ),
            ),
            SamplePerson(
                "吴淑芬", "会计核算科科长", assessed=(6, 25), measured=(11, 21),
                duties=(
                    D("负责会计核算与报销审核",
                      R("报销审核把关不严", "对不合规票据、超标准开支予以报销",
                        3, "报销实行初审、复审两级审核，不合规票据一律退回。"),
                      R("公款私存", "将单位资金以个人名义存储，私设“小金库”",
                        3, "所有资金纳入学校账户统一核算，定期开展“小金库”自查。"),
                      R("会计凭证管理不规范", "会计凭证、账簿保管不善，随意更改会计记录",
                        1, "会计档案按规定归档，调阅须经审批登记。")),
                ),
            ),
            # Drops the same file twice (a "- 副本" copy).
            SamplePerson(
                "李明", "会计核算科出纳", assessed=(6, 25), measured=(11, 22), copied=True,
                duties=(
                    D("负责现金收付、银行结算和票据管理",
                      R("挪用公款", "利用经手现金之便挪用公款或公款私存",
                        3, "库存现金每日盘点，科长不定期抽查，银行账户每月对账。"),
                      R("现金管理不规范", "坐支现金、白条抵库，库存现金超过限额",
                        2, "严格执行现金管理制度，超限额现金当日存入银行。"),
                      R("空白支票管理不严", "空白支票与印鉴由一人保管，违规签发支票",
                        3, "支票与印鉴分人保管，签发支票逐笔登记。")),
                ),
            ),
            SamplePerson(
                "陈婷婷", "收费管理科科员", assessed=(6, 27), measured=(11, 22),
                duties=(
                    D("负责学费、住宿费等收费项目的收缴和票据管理",
                      R("截留挪用收费收入", "收费收入不及时入账，截留、坐支、挪用",
                        3, "收费收入当日入账，收费系统与银行流水每日核对。"),
                      R("违规减免收费", "未经审批为学生减免、缓交学费",
                        2, "减免缓交须经学生处、财务处审批并公示。"),
                      R("收费票据管理不严", "收费票据领用、核销不规范，出现票据遗失",
                        1, "票据领用核销逐本登记，定期盘点。")),
                ),
            ),
        ),
        functions=(
            D("预算与资金管理",
              R("资金分配不公", "预算编制中照顾关系单位", 2,
                "预算分配标准和结果公开。", "责任科室：预算管理科"),
              R("大额资金支付违规", "大额资金支付未经集体研究", 3,
                "大额资金支付集体研究、双签审批。", "处长负总责")),
            D("会计核算与报销",
              R("报销审核把关不严", "不合规票据和超标准开支予以报销", 3,
                "报销两级审核，不合规票据一律退回。", "责任科室：会计核算科"),
              R("私设“小金库”", "资金体外循环，私设“小金库”", 3,
                "资金统一核算，每年开展“小金库”专项检查。", "责任科室：会计核算科")),
            D("收费管理",
              R("收费收入截留挪用", "收费收入不及时入账，截留挪用", 3,
                "收费收入当日入账，系统与银行每日对账。", "责任科室：收费管理科")),
        ),
    ),
)

BY_UNIT: dict[str, Unit] = {u.name: u for u in UNITS}

# ---------------------------------------------------------------------------
# How people write things: levels, dates, header padding, merging.

LEVEL_SPELLINGS: dict[str, tuple[str, str, str]] = {
    "chinese": ("一级", "二级", "三级"),
    "digit_ji": ("1级", "2级", "3级"),
    "digit": ("1", "2", "3"),
    "roman": ("Ⅰ级", "Ⅱ级", "Ⅲ级"),
    "capital": ("壹级", "贰级", "叁级"),
    "fullwidth": ("１", "２", "３"),
    "roman_ascii": ("I级", "II级", "III级"),
}
# "mixed": one file whose rows use different spellings (a form filled in by two people).
_LEVEL_CYCLE = ("chinese", "digit_ji", "chinese", "digit", "roman", "chinese", "capital", "mixed", "fullwidth", "roman_ascii")
_DATE_CYCLE = ("cn", "dot", "cn", "iso", "hanzi", "slash", "cn")
_PAD_CYCLE = ("{}", " {} ", "\u3000{}\u3000", "__{}__", "{}   ", "{}")
_ASSESS_MERGE_CYCLE: tuple[tuple[str, ...], ...] = (("duty",), ("duty", "review"), (), ("duty",))
_MEASURE_MERGE_CYCLE: tuple[tuple[str, ...], ...] = (("review",), ())
_PERSONAL_REVIEWS = ("同意。", "属实，同意评估等级。", "同意。", "情况属实，同意。")
_MEASURE_REVIEWS = ("同意。", "同意所提措施。")
_WORDS_FOR_LEVEL = {1: "低", 2: "中", 3: "高"}  # what some people write instead

_CN_DIGITS = "〇一二三四五六七八九"


def _cn_number(n: int) -> str:
    """1..31 as 一..三十一 (for months and days)."""
    tens, ones = divmod(n, 10)
    if tens == 0:
        return _CN_DIGITS[ones]
    head = "" if tens == 1 else _CN_DIGITS[tens]
    return f"{head}十{_CN_DIGITS[ones] if ones else ''}"


def spell_date(d: date, style: str) -> str:
    """A date as people write it on the form."""
    if style == "cn":
        return f"{d.year}年{d.month}月{d.day}日"
    if style == "dot":
        return f"{d.year}.{d.month}.{d.day}"
    if style == "iso":
        return d.isoformat()
    if style == "slash":
        return f"{d.year}/{d.month}/{d.day}"
    if style == "hanzi":
        year = "".join(_CN_DIGITS[int(c)] for c in str(d.year))
        return f"{year}年{_cn_number(d.month)}月{_cn_number(d.day)}日"
    raise ValueError(style)


def spell_level(level: int, style: str, row_index: int = 0) -> str:
    if style == "mixed":
        style = ("chinese", "digit_ji", "roman")[row_index % 3]
    return LEVEL_SPELLINGS[style][level - 1]


@dataclass(frozen=True)
class Style:
    level: str
    date: str
    pad: str
    assess_merge: tuple[str, ...]
    measure_merge: tuple[str, ...]
    keep_ellipsis: bool
    review: str
    measure_review: str


def style_for(n: int) -> Style:
    """The n-th writer's habits: a fixed, varied cycle (deterministic)."""
    return Style(
        level=_LEVEL_CYCLE[n % len(_LEVEL_CYCLE)],
        date=_DATE_CYCLE[n % len(_DATE_CYCLE)],
        pad=_PAD_CYCLE[n % len(_PAD_CYCLE)],
        assess_merge=_ASSESS_MERGE_CYCLE[n % len(_ASSESS_MERGE_CYCLE)],
        measure_merge=_MEASURE_MERGE_CYCLE[n % len(_MEASURE_MERGE_CYCLE)],
        keep_ellipsis=n % 3 != 2,
        review=_PERSONAL_REVIEWS[n % len(_PERSONAL_REVIEWS)],
        measure_review=_MEASURE_REVIEWS[n % len(_MEASURE_REVIEWS)],
    )


# ---------------------------------------------------------------------------
# From data to forms: what to write (for build_form) and what a reader must find.


@dataclass(frozen=True)
class FormDoc:
    """Arguments for blank.build_form."""

    kind: str
    header: dict[str, str]
    date: str | None
    rows: tuple[dict[str, str], ...]
    merge: tuple[str, ...] = ()
    signatory: str | None = None
    keep_ellipsis_row: bool = True


@dataclass(frozen=True)
class Expect:
    """What the pipeline should make of a sample file."""

    status: str  # "ok", "rejected" or "ignored" (as parse --json)
    form: str | None = None
    unit: str | None = None
    name: str | None = None
    position: str | None = None
    date: date | None = None
    rows: tuple[dict[str, Any], ...] = ()  # as parse --json rows (level 1..3, seq int)
    codes: tuple[str, ...] = ()  # error codes that must be among the errors
    fault: str | None = None  # what is wrong, in Chinese (for faulty files)
    duplicate_of: str | None = None  # path (under inbox/) of the same bytes, dropped earlier
    superseded_by: str | None = None  # path of the later version that replaces this one
    late: bool = False


@dataclass(frozen=True)
class SampleFile:
    path: str  # relative to inbox/, with "/" separators
    data: bytes
    expect: Expect
    # The day the office receives it: the day it is dated (people send a form when they sign it).
    received: date | None = None


@dataclass(frozen=True)
class Planned:
    path: str
    source: FormDoc | bytes
    expect: Expect


# Expected error codes of the faulty forms (contract codes).
FAULT_CODES = {
    "level_missing": ("missing_level",),
    "level_words": ("bad_level",),
    "unit_blank": ("missing_unit",),
    "blank_form": ("no_rows",),
    "not_docx": ("not_docx",),
}
FAULT_TEXT = {
    "level_missing": "有一行的风险等级未填写",
    "level_words": "风险等级写成了“高、中”",
    "unit_blank": "表头未填写单位",
    "blank_form": "误将空白表格报来，内容未填写",
    "not_docx": "Excel 工作簿改了扩展名冒充 .docx",
}


def _day(cfg: Config, md: tuple[int, int]) -> date:
    return date(cfg.year, md[0], md[1])


def _assessment_rows(duties: tuple[Duty, ...], review: str) -> list[dict[str, Any]]:
    """Rows as a reader returns them (level 1..3, seq from 1)."""
    rows = []
    for duty in duties:
        for risk in duty.risks:
            rows.append({"seq": len(rows) + 1, "duty": duty.text, "risk": risk.name,
                         "content": risk.content, "level": risk.level, "review": review})
    return rows


def _written(rows: list[dict[str, Any]], style: Style) -> tuple[dict[str, str], ...]:
    """Rows as the person writes them into the form (text; levels spelled)."""
    out = []
    for i, row in enumerate(rows):
        cells = {k: ("" if v is None else str(v)) for k, v in row.items()}
        if "level" in row:
            cells["level"] = spell_level(row["level"], style.level, i)
        out.append(cells)
    return tuple(out)


def _pad(text: str, style: Style) -> str:
    return style.pad.format(text) if text else ""


def _file_name(unit: Unit, kind: str, name: str = "") -> str:
    return unit.naming[kind].format(unit=unit.name, name=name)


def _personal_assessment(cfg: Config, unit: Unit, p: SamplePerson, st: Style,
                         duties: tuple[Duty, ...], dated: tuple[int, int]) -> tuple[FormDoc, Expect]:
    rows = _assessment_rows(duties, st.review)
    written = list(_written(rows, st))
    header = {"unit": _pad(unit.name, st), "name": _pad(p.name, st), "position": _pad(p.position, st)}
    expect_unit: str | None = unit.name
    codes: tuple[str, ...] = ()
    if p.fault == "level_missing":
        written[1] = {**written[1], "level": ""}
    elif p.fault == "level_words":
        written = [{**w, "level": _WORDS_FOR_LEVEL[r["level"]]} for w, r in zip(written, rows)]
    elif p.fault == "unit_blank":
        header["unit"] = ""
        expect_unit = None
    if p.fault:
        codes = FAULT_CODES[p.fault]
    when = _day(cfg, dated)
    doc = FormDoc("personal_assessment", header, spell_date(when, st.date), tuple(written),
                  merge=st.assess_merge, keep_ellipsis_row=st.keep_ellipsis)
    expect = Expect(
        status="rejected" if p.fault else "ok", form="personal_assessment", unit=expect_unit,
        name=p.name, position=p.position, date=when, rows=tuple(rows), codes=codes,
        fault=FAULT_TEXT.get(p.fault or ""), late=is_late("personal_assessment", when, when, cfg),
    )
    return doc, expect


def _personal_measures(cfg: Config, unit: Unit, p: SamplePerson, st: Style) -> tuple[FormDoc, Expect]:
    assert p.measured is not None
    rows = [{"seq": i + 1, "risk": r.name, "measure": r.measure, "review": st.measure_review}
            for i, r in enumerate(r for d in p.duties for r in d.risks)]
    when = _day(cfg, p.measured)
    header = {"unit": _pad(unit.name, st), "name": _pad(p.name, st), "position": _pad(p.position, st)}
    doc = FormDoc("personal_measures", header, spell_date(when, st.date), _written(rows, st),
                  merge=st.measure_merge, signatory=unit.head, keep_ellipsis_row=st.keep_ellipsis)
    expect = Expect(status="ok", form="personal_measures", unit=unit.name, name=p.name,
                    position=p.position, date=when, rows=tuple(rows),
                    late=is_late("personal_measures", when, when, cfg))
    return doc, expect


def _unit_assessment(cfg: Config, unit: Unit, st: Style) -> tuple[FormDoc, Expect]:
    rows = _assessment_rows(unit.functions, unit.head)
    when = _day(cfg, unit.assessed)
    # The head signs once: 负责人签字 merged over all rows, 单位职能 over its groups.
    doc = FormDoc("unit_assessment", {"unit": _pad(unit.name, st)}, spell_date(when, st.date),
                  _written(rows, st), merge=("duty", "review"), keep_ellipsis_row=st.keep_ellipsis)
    expect = Expect(status="ok", form="unit_assessment", unit=unit.name, date=when, rows=tuple(rows),
                    late=is_late("unit_assessment", when, when, cfg))
    return doc, expect


def _unit_measures(cfg: Config, unit: Unit, st: Style) -> tuple[FormDoc, Expect]:
    assert unit.measured is not None
    risks = [r for d in unit.functions for r in d.risks]
    rows = [{"seq": i + 1, "risk": r.name, "measure": r.measure, "note": r.note} for i, r in enumerate(risks)]
    when = _day(cfg, unit.measured)
    doc = FormDoc("unit_measures", {"unit": _pad(unit.name, st)}, spell_date(when, st.date),
                  _written(rows, st), signatory=unit.head, keep_ellipsis_row=st.keep_ellipsis)
    expect = Expect(status="ok", form="unit_measures", unit=unit.name, date=when, rows=tuple(rows),
                    late=is_late("unit_measures", when, when, cfg))
    return doc, expect


def plan(cfg: Config) -> list[Planned]:
    """Every sample file in drop order (earlier entries are older)."""
    out: list[Planned] = []
    n = 0  # writer counter: each form gets the next habits in the cycle
    for unit in UNITS:
        folder = unit.name
        for p in unit.people:
            path = f"{folder}/{_file_name(unit, 'personal_assessment', p.name)}"
            if p.fault == "level_missing":  # the clerk sent it anyway, saying so in the name
                path = f"{folder}/{p.name}-个人评估表（未填等级）.docx"
            if p.draft is not None and p.draft_dated is not None:
                st = style_for(n)
                n += 1
                doc, exp = _personal_assessment(cfg, unit, p, st, p.draft, p.draft_dated)
                corrected = path.removesuffix(".docx") + "（修改稿）.docx"
                out.append(Planned(path, doc, replace(exp, superseded_by=corrected)))
                path = corrected
            st = style_for(n)
            n += 1
            doc, exp = _personal_assessment(cfg, unit, p, st, p.duties, p.assessed)
            out.append(Planned(path, doc, exp))
            if p.copied:
                copy = path.removesuffix(".docx") + " - 副本.docx"
                out.append(Planned(copy, doc, replace(exp, duplicate_of=path)))
        st = style_for(n)
        n += 1
        doc, exp = _unit_assessment(cfg, unit, st)
        out.append(Planned(f"{folder}/{_file_name(unit, 'unit_assessment')}", doc, exp))
        for p in unit.people:
            if p.measured is None:
                continue
            st = style_for(n)
            n += 1
            doc, exp = _personal_measures(cfg, unit, p, st)
            out.append(Planned(f"{folder}/{_file_name(unit, 'personal_measures', p.name)}", doc, exp))
        if unit.measured is not None:
            st = style_for(n)
            n += 1
            doc, exp = _unit_measures(cfg, unit, st)
            out.append(Planned(f"{folder}/{_file_name(unit, 'unit_measures')}", doc, exp))
    out.extend(_odd_files())
    return out


# The files that are no filled form, and so have no date of their own, arrive with the June forms.
ODD_FILES_RECEIVED = (6, 29)


def _odd_files() -> list[Planned]:
    """The files that are not filled forms."""
    blank = FormDoc("personal_assessment", {}, None, ())
    # Not a form in the inbox: a draft deleted since (see below).
    lock_target = "教务处单位廉政风险排查评估表（草稿）.docx"
    return [
        # 后勤管理处's clerk forwarded the blank form instead of a filled one.
        Planned("后勤管理处/个人廉政风险排查评估表.docx", blank,
                 Expect(status="rejected", form="personal_assessment", codes=FAULT_CODES["blank_form"],
                        fault=FAULT_TEXT["blank_form"])),
        # 人事处 compiled a summary in Excel and renamed it .docx.
        Planned("人事处/人事处廉政风险汇总表.docx", _excel_summary(),
                 Expect(status="rejected", codes=FAULT_CODES["not_docx"], fault=FAULT_TEXT["not_docx"])),
        # 教务处's clerk drafted the unit's form on the share; Word crashed and
        # left its owner file (hidden in Explorer, so nobody deletes it); she
        # then saved the final form under its proper name and deleted the
        # draft. A stale lock beside no form: ignored and left in the inbox,
        # and it keeps no form waiting (a lock beside a form would: that form
        # is open in Word, and `run` and `watch` leave it alone).
        Planned(f"教务处/~${lock_target[2:]}", _word_lock_file("jwc-office"),
                 Expect(status="ignored", fault="Word 异常退出后遗留的锁定文件，对应的草稿已删除（应被忽略并留在收件箱）")),
    ]


# ---------------------------------------------------------------------------
# Bytes.

_ZIP_TIME = (2012, 6, 25, 9, 0, 0)


def normalize_zip(data: bytes, when: tuple[int, int, int, int, int, int] = _ZIP_TIME) -> bytes:
    """The same zip with fixed entry times (python-docx and openpyxl stamp the
    current time), so that sample bytes do not depend on when they were made."""
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>2012-06-25T09:00:00Z", body)
            out = zipfile.ZipInfo(info.filename, date_time=when)
            out.compress_type = zipfile.ZIP_DEFLATED
            out.external_attr = info.external_attr
            dst.writestr(out, body)
    return buf.getvalue()


def _excel_summary() -> bytes:
    """A small .xlsx (a unit's own summary sheet), as Excel would save it."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "汇总"
    ws.append(["序号", "姓名", "职务", "风险名称", "风险等级"])
    unit = BY_UNIT["人事处"]
    n = 0
    for p in unit.people:
        for d in p.duties:
            for r in d.risks:
                n += 1
                ws.append([n, p.name, p.position, r.name, spell_level(r.level, "chinese")])
    buf = io.BytesIO()
    wb.save(buf)
    return normalize_zip(buf.getvalue())


def _word_lock_file(user: str) -> bytes:
    """Word's 162-byte owner file: the user's name, once in ANSI, once in UTF-16."""
    ansi = user.encode("ascii")
    return (bytes([len(ansi)]) + ansi.ljust(53, b" ") + len(user).to_bytes(2, "little")
            + user.encode("utf-16-le").ljust(106, b"\x00"))


def _render(doc: FormDoc) -> bytes:
    data = build_form(
        BY_KIND[doc.kind],
        header=doc.header,
        date=doc.date,
        rows=doc.rows,
        merge=doc.merge,
        signatory=doc.signatory,
        keep_ellipsis_row=doc.keep_ellipsis_row,
    )
    return data  # build_form gives the same bytes for the same arguments


def sample_files(cfg: Config | None = None) -> list[SampleFile]:
    """Every sample file with its bytes and what the pipeline should make of it,
    in drop order. A duplicate has exactly the bytes of its original."""
    cfg = cfg or Config()
    out: list[SampleFile] = []
    by_path: dict[str, bytes] = {}
    for item in plan(cfg):
        if item.expect.duplicate_of:
            data = by_path[item.expect.duplicate_of]
        elif isinstance(item.source, FormDoc):
            data = _render(item.source)
        else:
            data = item.source
        by_path[item.path] = data
        out.append(SampleFile(item.path, data, item.expect, item.expect.date or _day(cfg, ODD_FILES_RECEIVED)))
    return out


def sample_inbox(cfg: Config) -> list[tuple[str, bytes]]:
    """(path relative to inbox/, file bytes) for every sample file, in drop order."""
    return [(f.path, f.data) for f in sample_files(cfg)]


# ---------------------------------------------------------------------------
# The roster and the workspace settings.


def roster_rows() -> list[tuple[str, str, str]]:
    """单位, 姓名, 职务 of everyone expected to report, including those who sent nothing."""
    rows = []
    for unit in UNITS:
        rows.extend((unit.name, p.name, p.position) for p in unit.people)
        rows.extend((unit.name, name, position) for name, position in unit.absent)
    return rows


def roster_csv() -> bytes:
    """The roster as Excel saves "CSV UTF-8": a BOM, a header row (单位,姓名,职务), CRLF."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(["单位", "姓名", "职务"])
    writer.writerows(roster_rows())
    return buf.getvalue().encode("utf-8-sig")


ROSTER_NAME = "roster.csv"

PIPELINE_TOML = f"""\
# 演示工作目录的设置（python -m pipeline demo 生成）。
# 未写出的设置项使用内置默认值：个人排查评估表 6月30日、单位排查评估表 9月30日、
# 防控措施表 11月30日截止（见试点工作方案）。

# 花名册：单位、姓名、职务，用于统计未报送的人员。
roster = "{ROSTER_NAME}"

# 通报的发文字号（issue 通报 时编号）：演示用的系列，实际使用时请改为本单位自己的机关代字。
doc_number_prefix = "泉师院廉防办"
doc_number_start = 1
"""


# ---------------------------------------------------------------------------
# The story, for the demo's guide and for tests.


@dataclass(frozen=True)
class Story:
    late_units: tuple[str, ...]
    missing_personal_measures: tuple[tuple[str, str], ...]  # (unit, name) with 附件1 accepted, no 附件3
    missing_unit_measures: tuple[str, ...]
    absent: tuple[tuple[str, str], ...]  # (unit, name) on the roster who sent nothing
    superseded: tuple[str, ...]
    duplicates: tuple[str, ...]
    faulty: tuple[tuple[str, str, tuple[str, ...]], ...]  # (path, what is wrong, codes)
    ignored: tuple[str, ...]


def story(cfg: Config | None = None) -> Story:
    """What the sample data shows, computed from the data (not written by hand)."""
    cfg = cfg or Config()
    items = plan(cfg)
    accepted_personal = {(i.expect.unit, i.expect.name) for i in items
                         if i.expect.status == "ok" and i.expect.form == "personal_assessment"}
    with_measures = {(i.expect.unit, i.expect.name) for i in items
                     if i.expect.status == "ok" and i.expect.form == "personal_measures"}
    sent = {(u.name, p.name) for u in UNITS for p in u.people}
    return Story(
        late_units=tuple(dict.fromkeys(i.expect.unit for i in items
                                       if i.expect.late and i.expect.status == "ok" and i.expect.unit)),
        missing_personal_measures=tuple(sorted(accepted_personal - with_measures, key=_unit_order)),
        missing_unit_measures=tuple(u.name for u in UNITS if u.measured is None),
        absent=tuple((u, n) for u, n, _ in roster_rows() if (u, n) not in sent),
        superseded=tuple(i.path for i in items if i.expect.superseded_by),
        duplicates=tuple(i.path for i in items if i.expect.duplicate_of),
        faulty=tuple((i.path, i.expect.fault or "", i.expect.codes) for i in items if i.expect.status == "rejected"),
        ignored=tuple(i.path for i in items if i.expect.status == "ignored"),
    )


def _unit_order(key: tuple[str | None, str | None]) -> tuple[int, str]:
    names = [u.name for u in UNITS]
    unit, name = key
    return (names.index(unit) if unit in names else len(names), name or "")
