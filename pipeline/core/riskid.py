"""风险编号: the stable id of a risk (FX-XXXXX-XXXXX), the same in every run.

Pure, and in core because more than the workbook needs it: the pre-filled
落实情况 form (附件5) prints it, and the follow-up (core/follow.py) ties a
returned row to its risk by it, whatever the clerk retyped in the name.
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache

from pipeline.core import crosscheck
from pipeline.core.model import RiskPoint

_text_key = lru_cache(maxsize=1 << 16)(crosscheck.text_key)
_risk_key = lru_cache(maxsize=1 << 16)(crosscheck.risk_key)

# Crockford's base 32 (no I, L, O, U: an id read aloud or retyped is not
# misread), as a translation of the standard alphabet base64.b32encode writes.
_CROCKFORD = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", b"0123456789ABCDEFGHJKMNPQRSTVWXYZ")


def risk_id(campaign: str, r: RiskPoint, personal: bool) -> str:
    """风险编号: FX-XXXXX-XXXXX, the same in every run for the same risk: a hash
    of what identifies a risk across runs and corrections — the campaign, the
    unit, the person (a unit's own risks: the unit form), the risk's name as
    compared (crosscheck.risk_key: spaces and punctuation do not count). Not
    the file, the row or the level: a corrected form keeps its risks' ids.
    50 bits: among 40,000 risks a collision is a chance in ten million."""
    return _risk_id(campaign, _text_key(r.unit), _text_key(r.name) if personal else None, _risk_key(r.risk))


@lru_cache(maxsize=1 << 17)
def _risk_id(campaign: str, unit: str, person: str | None, risk: str) -> str:
    key = "\x1f".join((campaign, unit, "单位" if person is None else "个人", person or "", risk))
    digest = hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=10).digest()
    chars = base64.b32encode(digest).translate(_CROCKFORD)[:10].decode("ascii")
    return f"FX-{chars[:5]}-{chars[5:]}"


def normal_id(text: str | None) -> str:
    """A 风险编号 as typed back (spaces, lower case, full-width dashes), compared form."""
    return "".join((text or "").split()).upper().replace("－", "-").replace("—", "-")
