"""The words and addresses that tell ``probes.human_contact`` what a piece of a page is for.

Data, not logic: what labels a number as something other than a phone (a fax, a policy, an ABN), what
a contact link says, which words only look like one ("Contactless", "Contact lens cover"), what says an
address is not read, what says a chat is a bot. The chat products are in ``data/chat_providers.json``.
All patterns are case-insensitive and anchored with word boundaries, so "Supporting" is not "Support".
"""

from __future__ import annotations

import json
import re
from importlib import resources

# -- phone numbers ---------------------------------------------------------------------------------------
# A label that says a number is not for calling. It counts only when it labels *this* number: the label
# is the last thing before it, followed at most by "number", "no.", "#", ":" and the like ("Fax: 09 379
# 0001", "Policy number 1234 5678", "ABN 12 345 678 901"), so "Call our policy team on 0800 …" is a phone.
_LABEL_WORDS = {
    "fax": r"fax|facsimile|f",
    "reference": r"ref|reference|our ref|your ref|quote ref|booking ref",
    "policy": r"policy",
    "account": r"account|acct|a/c|iban|bsb|bic|swift|routing",
    "card": r"card|credit card|debit card|card ending(?: in)?",
    "ABN": r"abn|acn|arbn|afsl|australian credit licence|acl|nzbn|gst|ird|vat|ein|tax|tfn|"
           r"company|company registration|registered|registration|reg|cro|ck|fsp|fsp no|"
           r"fca|frn|firm reference|nmls|licence|license|afsl no|charity",
    "sort code": r"sort code|sortcode",
    "claim": r"claim|member|membership|customer|client|invoice|order|case",
    "version": r"version|ver|v|serial|isbn|model|part",
}
_TRAILER = r"(?:\s*(?:number|numbers|no\.?|num\.?|nos\.?|#|code|id|is|ending(?: in)?|:))*\s*[:#.=\-–—]*\s*$"
# One pattern for all labels (one search per number); the group that matched names the label.
LABEL_NAMES = list(_LABEL_WORDS)
LABEL = re.compile(r"(?<![\w/])(?:" + "|".join(f"(?P<l{i}>{words})" for i, words in enumerate(_LABEL_WORDS.values()))
                   + rf"){_TRAILER}", re.IGNORECASE)
# "09 379 0001 (fax)", "09 379 0001 fax".
FAX_AFTER = re.compile(r"^\s*[(\[]?\s*(?:fax|facsimile)\b", re.IGNORECASE)
# Words that say a number is for calling. A bare run of digits ("08001234567") counts only after one.
PHONE_CUE = re.compile(r"\b(?:call|calls|calling|phone|phones|telephone|tel|ph|ring|dial|freephone|freecall|"
                       r"toll[- ]free|helpline|hotline|mobile|mob|cell|landline|whatsapp|text|sms|"
                       r"contact (?:us|them|our \w+)(?: on| at)?|reach us(?: on| at)?|speak to us)\b"
                       r"|\b[TPM]\s*:|☎|📞", re.IGNORECASE)

# -- links -----------------------------------------------------------------------------------------------
# What a link to a contact page says ("Help & contact", "Get in touch", "Talk to us", "Call me back" …).
CONTACT_WORDS = re.compile(
    r"\bcontact(?:s)?\b(?!\s*(?:lens|lenses|details|preferences|settings|information|info)\b)"
    r"|\bget in touch\b|\b(?:talk|speak|chat) (?:to|with) (?:us|someone|a person|a human|our team|"
    r"an? (?:adviser|advisor|agent|person|human|specialist|expert|representative|consultant))\b"
    r"|\bcall (?:us|me back)\b|\bcall ?back\b|\brequest a call(?: ?back)?\b|\bbook a call\b"
    r"|\bcomplain(?:t|ts)?\b|\bmake a complaint\b|\bwrite to us\b|\bemail us\b|\bmessage us\b|\breach us\b"
    r"|\bhelp (?:&|and) support\b|\bcustomer (?:service|support|care|centre|center)s?\b"
    r"|\bhelp (?:centre|center)\b|\bsupport (?:centre|center|hub|team)\b|\benquir(?:y|ies)\b|\binquir(?:y|ies)\b"
    r"|\bfeedback (?:&|and) complaints\b|\bcontactez\b|\bnous joindre\b|\bjoindre\b",
    re.IGNORECASE)
# "Support" counts when it is the whole of the link ("Support", "Get support"), never inside a sentence
# ("Support our local charity", "Supporting families").
SUPPORT_ALONE = re.compile(r"^(?:get |customer |contact |technical |member |client )?support$", re.IGNORECASE)
# Look-alikes: the words or the address contain "contact" but the link is about something else.
LOOK_ALIKES = re.compile(r"contactless|contact[\s-]*lens|contact[\s-]*(?:details|preferences|settings)"
                         r"|update (?:your )?contact|emergency contact|contact tracing|contact sports?",
                         re.IGNORECASE)
CONTACT_PATHS = re.compile(
    r"(?:^|[/_.-])(?:contact(?:-?us)?|get-?in-?touch|talk-?to-?us|speak-?to-?us|call-?me-?back|callback|"
    r"request-?a-?call(?:back)?|complaints?|complain|make-?a-?complaint|help-?(?:and|&)?-?(?:support|contact)|"
    r"customer-?(?:service|care|support)|support-?(?:centre|center|hub)|enquir(?:y|ies)|inquir(?:y|ies)|feedback-?and-?complaints|contactez-?nous|nous-?joindre)"
    r"(?:$|[/_.?#-])", re.IGNORECASE)
CHAT_WORDS = re.compile(r"\blive ?chat\b|\bweb ?chat\b|\bchat (?:with|to) (?:us|someone|an? \w+|our \w+)"
                        r"|\bchat (?:now|online)\b|\bstart (?:a )?chat\b|\bonline chat\b|\bopen chat\b"
                        r"|\bchat$|^chat\b", re.IGNORECASE)
# Messaging apps: (kind label, address pattern).
MESSAGING = (
    ("WhatsApp", re.compile(r"^(?:https?://)?(?:wa\.me/|api\.whatsapp\.com/send|(?:www\.)?whatsapp\.com/(?:send|message)"
                            r"|chat\.whatsapp\.com/)|^whatsapp:", re.IGNORECASE)),
    ("Messenger", re.compile(r"^(?:https?://)?(?:m\.me/|(?:www\.)?messenger\.com/t/)|^fb-messenger:", re.IGNORECASE)),
)

# -- e-mail ----------------------------------------------------------------------------------------------
EMAIL = re.compile(r"(?<![\w.%+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}"
                   r"@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}(?![\w@-])")
FILE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".css", ".js")  # logo@2x.png is no address
NOREPLY_ADDRESS = re.compile(r"^(?:no[-_.]?reply|do[-_.]?not[-_.]?reply|dont[-_.]?reply|donotrespond|"
                             r"do[-_.]?not[-_.]?respond|mailer-daemon|bounces?|notifications?-?noreply)(?:[-_.+]|@)",
                             re.IGNORECASE)
NOBODY_READS = re.compile(r"\bnot (?:being )?monitored\b|\bunmonitored\b|\bnobody (?:reads|monitors)\b"
                          r"|\b(?:do not|don't|please do not|cannot|can't|can ?not) (?:reply|respond)\b"
                          r"|\bwill not be (?:read|answered|responded to)\b|\bis not read\b|\bno-?reply\b",
                          re.IGNORECASE)

# -- chat that is not a person ----------------------------------------------------------------------------
BOT = re.compile(r"\bvirtual (?:assistant|agent)\b|\bchat ?bots?\b|\bbots?\b|\bAI (?:assistant|helper|chat)\b"
                 r"|\bautomated (?:assistant|chat|agent|helper|service)\b|\bdigital assistant\b"
                 r"|\bno live (?:agents?|people|staff)\b|\bnot (?:a )?(?:live|real) (?:person|agent|human)\b",
                 re.IGNORECASE)
HUMAN_CHAT = re.compile(r"\b(?:chat|talk|speak) (?:with|to) (?:an? |our )?(?:adviser|advisor|agent|person|human|"
                        r"real person|team member|specialist|consultant)s?\b|\blive (?:agent|person|adviser|advisor)s?\b"
                        r"|\btransfer you to (?:a|an|one of our)\b|\bhand (?:you )?over to (?:a|an)\b",
                        re.IGNORECASE)
CHAT_CONTEXT = re.compile(r"\bchat|\bassistant\b|\bask\b|\bmessag|\bhelp\b|\banswers?\b", re.IGNORECASE)
NO_HUMAN = re.compile(r"\bno (?:live|human|real) (?:agents?|people|staff|person)\b|\bnot (?:a )?(?:live|real) "
                      r"(?:person|agent|human)\b|\bcannot (?:transfer|connect) you\b", re.IGNORECASE)


def chat_providers() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(name, signatures) of every known live-chat product, from data/chat_providers.json."""
    document = json.loads(resources.files("probes").joinpath("data/chat_providers.json").read_text("utf-8"))
    return tuple((entry["name"], tuple(s.lower() for s in entry["signatures"])) for entry in document["providers"])


CHAT_PROVIDERS = chat_providers()
