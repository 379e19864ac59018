"""The questions a client answers (DESIGN.md §4): each one's scale and choices, as the form, the follow-up
emails and the staff pages show them."""

from __future__ import annotations

SCALES = {"satisfaction": (1, 5), "recommend": (0, 10), "effort": (1, 7)}
BRAND_EFFECT_LABELS = {"better": "Better", "same": "No change", "worse": "Worse"}
# Each question's choices as (value, label), in the order the form offers them.
OPTIONS: dict[str, list[tuple[object, str]]] = {
    "satisfaction": [(1, "1 Very dissatisfied"), (2, "2 Dissatisfied"), (3, "3 Neutral"), (4, "4 Satisfied"),
                     (5, "5 Very satisfied")],
    "recommend": [(n, str(n)) for n in range(0, 11)],
    "effort": [(1, "Strongly disagree"), (2, "Disagree"), (3, "Somewhat disagree"), (4, "Neither agree nor disagree"),
               (5, "Somewhat agree"), (6, "Agree"), (7, "Strongly agree")],
    "brand_effect": list(BRAND_EFFECT_LABELS.items()),
    "contact_channel": [("phone", "Phone"), ("email", "Email")],
}
