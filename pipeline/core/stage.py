"""How the documents word the stage of the work (config `stage`): the pilot
(试点: the listed pilot units) or the whole school (全面推进, the plan's third
stage). Every sentence, title and label that names the stage takes its words
from here, so that a roll-out to the whole school never reads "试点".

PURE: a stage name in, words out.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StageWords:
    work: str  # the work itself: 廉政风险防控试点工作
    units: str  # the listed units as a noun: 试点单位 ("7个试点单位中", "各试点单位")
    not_listed: str  # said of a unit outside the list: 不是本次试点单位
    units_column: str  # the workbook's column telling listed units apart

    @property
    def bulletin_title(self) -> str:
        return f"关于{self.work}进展情况的通报"

    def plan_title(self, institution: str) -> str:
        """The plan the documents cite: 《泉州师范学院廉政风险防控试点工作方案》."""
        return f"《{institution}{self.work}方案》"

    @property
    def attachment1_title(self) -> str:
        return f"各{self.units}廉政风险排查评估情况统计表"

    @property
    def attachment2_title(self) -> str:
        return f"各{self.units}材料报送情况一览表"


WORDS: dict[str, StageWords] = {
    "试点": StageWords(
        work="廉政风险防控试点工作", units="试点单位", not_listed="不是本次试点单位", units_column="试点单位"
    ),
    "全面推进": StageWords(
        work="廉政风险防控工作", units="单位", not_listed="不在本次工作的单位名单中", units_column="名单内单位"
    ),
}

# What a unit outside the list is called wherever it is shown apart (status,
# the workbook's sheet, the 通报's sentence), in either stage.
OUTSIDE = "名单外单位"


def words(stage: str) -> StageWords:
    """The words of a stage; an unknown one (config.py refuses it) reads as the pilot."""
    return WORDS.get(stage, WORDS["试点"])
