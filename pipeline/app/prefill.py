"""Pre-filled forms (`forms --roster`): for each person of the roster (花名册)
their two forms with 单位/姓名/职务 already written, the measures form with the
risks they declared already listed; for each unit its two forms likewise, and
its 落实情况 form (附件5) listing every risk in force with its measure.

The office knows who must fill what (the roster) and what each person has
already declared (the register): forms that go out right need no retyping
and come back tied to their owner by an identity that survives editing
(pipeline.core.identity), whatever the clerk types as the name.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from loguru import logger

from pipeline.core import crosscheck, follow, units
from pipeline.core.campaign import Campaign, CampaignError
from pipeline.core.config import Config
from pipeline.core.forms import BY_KIND, IMPLEMENTATION, FormSpec, level_name
from pipeline.core.model import FormIdentity, Person, RiskPoint, Snapshot
from pipeline.core.names import safe_component
from pipeline.docs.blank import build_form
from pipeline.store import roster as roster_store
from pipeline.store.files import atomic_write, free_name, safe_name
from pipeline.store.register import Register
from pipeline.store.workspace import Workspace

FOLDER = "预填表格"  # under the campaign's folder in outbox/


@dataclass
class Written:
    """One pre-filled form: where it is, and whether it was written now (a
    file already there with the same bytes is left as it is)."""

    path: Path
    written: bool
    person: str | None = None  # whose form it is (None: a unit's form)


@dataclass(frozen=True)
class _Plan:
    """One form to write: its kind, owner, header and rows."""

    spec: FormSpec
    unit: str
    person: Person | None
    rows: tuple[dict[str, Any], ...] = ()


def default_folder(ws: Workspace, campaign: Campaign) -> Path:
    return ws.outbox / campaign.folder / FOLDER


def write_prefilled(ws: Workspace, cfg: Config, today: date, outdir: Path | None = None, unit: str | None = None) -> list[Written]:
    """Write the pre-filled forms of every roster person and unit (of `unit`
    only, when given) into `outdir` (default outbox/<年度>/预填表格/), a folder
    per unit. CampaignError (exit 2, a message for the clerk) without a roster
    or for a unit that is not listed."""
    if cfg.roster is None:
        raise CampaignError("未设置花名册：请在 pipeline.toml 中写明 roster = \"花名册.xlsx\"（含“单位”“姓名”“职务”列），再生成预填表格")
    people = [_listed(p, cfg) for p in roster_store.load(cfg.roster)]
    wanted = _wanted_unit(unit, cfg, people) if unit is not None else None
    with Register(ws.register_db) as reg:
        campaign = reg.current_campaign(cfg)
        snap = reg.snapshot(cfg, today)
    target = outdir if outdir is not None else default_folder(ws, campaign)
    plans = _plans(people, snap.risks, wanted) + _implementation_plans(people, snap, wanted)
    done = [_write(target, campaign, plan) for plan in plans]
    logger.debug("预填表格 {} 份写入 {}", len(done), target)
    return done


def _listed(person: Person, cfg: Config) -> Person:
    """The roster line with its unit as listed (an alias, 资产处, becomes 资产管理处)."""
    return person._replace(unit=units.read_unit(person.unit, cfg).unit or person.unit)


def _wanted_unit(unit: str, cfg: Config, people: Sequence[Person]) -> str:
    """The unit named by --unit as listed; CampaignError when neither the
    settings nor the roster know it (with the nearest name, when there is one)."""
    listed = units.read_unit(unit, cfg).unit or unit
    known = list(dict.fromkeys([*cfg.units, *(p.unit for p in people)]))
    if crosscheck.text_key(listed) in {crosscheck.text_key(u) for u in known}:
        return listed
    near = units.likely_unit(unit, known)
    hint = f"，是否指“{near}”？" if near else "。"
    raise CampaignError(f"花名册和设置中都没有单位“{unit}”{hint}")


def _plans(people: Sequence[Person], risks: Sequence[RiskPoint], unit: str | None) -> list[_Plan]:
    """Each person's 附件1 and 附件3, then each unit's 附件2 and 附件4, in roster order."""
    key = crosscheck.text_key
    chosen = [p for p in people if unit is None or key(p.unit) == key(unit)]
    plans: list[_Plan] = []
    for person in chosen:
        plans.append(_Plan(BY_KIND["personal_assessment"], person.unit, person))
        declared = _declared(risks, person.unit, person.name)
        plans.append(_Plan(BY_KIND["personal_measures"], person.unit, person, declared))
    for unit_name in dict.fromkeys(p.unit for p in chosen):
        plans.append(_Plan(BY_KIND["unit_assessment"], unit_name, None))
        plans.append(_Plan(BY_KIND["unit_measures"], unit_name, None, _declared(risks, unit_name, None)))
    return plans


def _implementation_plans(people: Sequence[Person], snap: Snapshot, unit: str | None) -> list[_Plan]:
    """Each unit's 附件5《廉政风险防控措施落实情况表》 (issue 14): every risk in
    force of the unit and its people, with its 风险编号, level, measure and
    责任人 (the person; a unit's own risk leaves it to the unit), 落实情况 left
    to write. A unit with no risk in force yet gets none (nothing to report)."""
    key = crosscheck.text_key
    units_in_order = [u for u in dict.fromkeys(p.unit for p in people) if unit is None or key(u) == key(unit)]
    by_unit: dict[str, list[dict[str, Any]]] = {}
    for r, rid in follow.ids_of(snap):
        row = {"risk_id": rid, "risk": r.risk, "level": level_name(r.level), "measure": r.measure, "owner": r.name or ""}
        by_unit.setdefault(key(r.unit), []).append(row)
    return [_Plan(IMPLEMENTATION, u, None, tuple(by_unit[key(u)])) for u in units_in_order if by_unit.get(key(u))]


def _declared(risks: Iterable[RiskPoint], unit: str, name: str | None) -> tuple[dict[str, Any], ...]:
    """The risks in force of a person (or of the unit, name None), as rows of
    its measures form: the name filled, the measure left to write."""
    key = crosscheck.text_key
    mine = [r for r in risks if key(r.unit) == key(unit) and key(r.name or "") == key(name or "")]
    return tuple({"risk": r.risk} for r in mine)


def _write(folder: Path, campaign: Campaign, plan: _Plan) -> Written:
    person = plan.person
    header = {"unit": plan.unit}
    if person is not None:
        header.update(name=person.name, position=person.position)
    ident = FormIdentity(campaign.id, plan.spec.kind, plan.unit, person.name if person else None)
    data = build_form(plan.spec, header=header, rows=list(plan.rows), identity=ident)
    path = folder / safe_component(plan.unit) / _file_name(plan.spec, person)
    if path.exists():
        if path.is_file() and path.read_bytes() == data:
            return Written(path, False, ident.person)
        path = free_name(path)  # someone's file (perhaps a form filled in): kept
    atomic_write(path, data)
    return Written(path, True, ident.person)


def _file_name(spec: FormSpec, person: Person | None) -> str:
    """附件1 个人廉政风险排查评估表（王丽华）.docx; 附件2 单位廉政风险排查评估表.docx."""
    who = f"（{person.name}）" if person is not None else ""
    return safe_name(f"附件{spec.attachment} {spec.title}{who}.docx")
