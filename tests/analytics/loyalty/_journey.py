"""A small journey file for the loyalty and experience tests."""

from __future__ import annotations

JOURNEY = """\
key: shop
name: Shop
scale: {min: 1, max: 5}
touchpoints:
  - {key: ad, phase: awareness, successors: [site]}
  - {key: site, phase: consideration, successors: [buy], experience: {current: 3, desired: 4}}
  - key: buy
    phase: purchase
    conversion: true
    successors: [support]
    experience: {current: 4, desired: 5}
  - key: support
    phase: service
    experience: {current: 2, desired: 4}
    successors: [review_request]
  - {key: review_request, phase: loyalty, successors: [refer]}
  - {key: refer, phase: loyalty, referral: true, experience: {current: 3, desired: 5}}
  - {key: cancel, phase: loyalty, loop: loyalty, ends_relationship: true, predecessors: [support]}
personas:
  - {key: saver, name: Saver, match: {segment: budget}}
  - {key: pro, name: Pro}
"""


def use_journey(ws, text: str = JOURNEY):
    """Replace the workspace's journey files with ``text``; returns ws."""
    for f in ws.journey_files():
        f.unlink()
    (ws.journeys_dir / "shop.yaml").write_text(text, encoding="utf-8")
    ws.reload()
    return ws
