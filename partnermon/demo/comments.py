"""What the demo's clients write: comments by moment of truth and mood, the stories' own comments, and what
advisers note when they work a follow-up. Invented sentences, written to read like real ones.
"""

from __future__ import annotations

import random

GENERAL = {
    "happy": ("Quick and painless, thank you.", "Everything was clear and I got what I needed first time.",
              "The person I spoke to was friendly and knew what they were talking about.",
              "Much easier than I expected.", "No complaints at all — good service.",
              "Really helpful, and they followed up by email as promised."),
    "neutral": ("It was fine, nothing special.", "Got there in the end but it took a couple of attempts.",
                "A bit slow but it worked.", "OK, though the letters could be clearer.",
                "Average. I had to read everything twice."),
    "unhappy": ("Very frustrating experience from start to finish.", "I had to chase them three times.",
                "Nobody seemed to know who was dealing with it.", "I was on hold for over forty minutes.",
                "I expected better, given you recommended them.", "The website kept logging me out."),
}

BY_MOMENT = {
    "opening": {
        "happy": ("Found the information I needed on their website straight away.",
                  "Their product guide was genuinely easy to follow."),
        "neutral": ("The website has lots of information but it's hard to find the bit you want.",),
        "unhappy": ("Their website is a maze — I gave up looking for the right page.",
                    "I couldn't work out how to speak to someone."),
    },
    "conversion": {
        "happy": ("The application took ten minutes and the welcome pack arrived two days later.",
                  "Onboarding was smooth and they kept me updated."),
        "neutral": ("The application form was long but straightforward.",
                    "They needed the same documents twice."),
        "unhappy": ("The online application crashed twice and I had to start again.",
                    "Three weeks and still waiting for my account to be opened."),
    },
    "service": {
        "happy": ("Logging in and downloading my statement was simple.",
                  "Changed my address online in a couple of minutes."),
        "neutral": ("The portal works but it looks like it's from 2005.",
                    "Statements are there but it took a while to find them."),
        "unhappy": ("The portal wouldn't accept my password and the reset email never came.",
                    "I still can't see my latest valuation online."),
    },
    "claim": {
        "happy": ("The claim was handled quickly and sympathetically.",
                  "They paid out within a week, which made a hard time easier."),
        "neutral": ("The claim was paid but I had to send the same evidence twice.",),
        "unhappy": ("I had to explain my situation to four different people.",
                    "Weeks without an update on my claim."),
    },
    "complaint": {
        "happy": ("They took my complaint seriously and put it right.",),
        "neutral": ("They responded to my complaint but it took the full eight weeks.",),
        "unhappy": ("My complaint was closed without anyone actually answering it.",
                    "A standard letter that ignored everything I'd said."),
    },
    "renewal": {
        "happy": ("The renewal notice was clear and the price was fair.",),
        "neutral": ("The renewal went through automatically, though I'd have liked more notice.",),
        "unhappy": ("My premium went up by a third with no explanation.",
                    "The renewal letter was impossible to understand."),
    },
    "departure": {
        "happy": ("The transfer out was quicker than I expected.",),
        "neutral": ("The transfer took a month but got there.",),
        "unhappy": ("They made it very difficult to move my money away.",
                    "The transfer has been 'in progress' for seven weeks."),
    },
    "return": {
        "happy": ("Getting my policy back in force was easy.",),
        "neutral": ("Reinstating the policy took a few forms.",),
        "unhappy": ("They wanted a full new medical just to reinstate my cover.",),
    },
    "advocacy": {
        "happy": ("I've already recommended them to my sister.",),
        "neutral": ("I'd probably recommend them, with a few caveats.",),
        "unhappy": ("I wouldn't recommend them to anyone after this.",),
    },
}

# The claims portal getting worse, month by month.
CLAIMS_DECLINE = {
    # Written in the claims theme's words (RECENT_TOPICS), as clients of one failing site tend to be.
    "unhappy": ("The claims site took ages to load and then timed out when I tried to upload my documents.",
                "I tried to lodge my claim three evenings running and the claim form timed out every time.",
                "The claim form crashed and lost everything I'd typed, documents and all.",
                "Honestly, a claims site that times out on my documents has made me question your recommendation.",
                "I ended up posting my claim documents because the claims site was so slow.",
                "The upload page of the claim form just spun for five minutes every time.",
                "Couldn't get past 'Start a claim' — the claims site crashed every time."),
    "neutral": ("The claims site was really slow but I did manage to upload my documents.",
                "The claim form worked in the end, after two timeouts."),
}

# The fund manager's contact page with no phone number on it.
CONTACT_LOST = {
    "unhappy": ("Couldn't find a number to call anywhere on their site.",
                "Their contact page only has a form — I wanted to speak to a person.",
                "I couldn't find any way to actually talk to someone.",
                "Where has the phone number gone? I had to ask you for it.",
                "The contact page used to have a phone number; now it's just a chatbot that doesn't understand."),
    "neutral": ("Took a while to find how to contact them; I ended up emailing.",),
}

NIGHT_OUTAGE = ("The platform was down when I tried to log in late on Tuesday night.",
                "Couldn't get into my account first thing on Wednesday morning.")
DAY_OUTAGE = ("Online banking was down in the middle of the morning when I needed to make a payment.",
              "The site was unavailable around eleven — had to call instead.")

CONTACT_NOTES = ("Rang the client; they were grateful for the call.", "Spoke to the client and apologised.",
                 "Left a voicemail, then reached them the same afternoon.", "Emailed the client with next steps.",
                 "Met the client at the office to go through it.", "Called back as requested.")
OUTCOMES = {
    "mild": ("Explained how to do it next time; client happy.", "Sent the client a step-by-step guide.",
             "Client just wanted to be heard; no further action."),
    "serious": ("Raised with the partner's account manager; claim now moving.",
                "Escalated to the partner; client received an update within two days.",
                "Helped the client complete the form by phone.", "Partner apologised and paid a goodwill gesture."),
    "brand": ("Met the client, reviewed the recommendation, and agreed to keep it under review.",
              "Client reassured; we're raising the partner's service at our quarterly review.",
              "Moved the client to an alternative provider at their request."),
}

# The last 90 days' complaints, each three sentences from one of three topics, so that the themes page finds three
# themes in them (partnermon.feedback.themes): the claims site failing (claims only), the login that locks people out
# (everyday service only), and nobody answering the phone — told at several moments, so offered as a new moment.
RECENT_TOPICS: dict[str, tuple[str, ...]] = {
    "claims": ("The claims site timed out.", "The upload of my claim documents failed.", "The claim form crashed.",
               "I couldn't upload my claim documents.", "The claims site lost my documents.",
               "The claim upload timed out again.", "My claim documents would not upload.",
               "The claim form timed out before the upload finished."),
    "login": ("I was locked out of the login.", "The password reset code never came.", "The app rejects my password.",
              "The login code expired.", "Locked out of the app login again.", "The password reset locked my login.",
              "The app login wants a new password every week.", "The login code for the app never came."),
    # In the words of the contact page that lost its phone number (CONTACT_LOST) too: "no way to reach a person".
    # Every sentence says "phone", as clients who cannot get through do: without a shared word, the model may split
    # this one complaint into "call back", "on hold" and "a person" themes, depending on which comments fall in.
    "phone": ("Nobody answered the phone.", "No call back on the phone, again.", "On hold on the phone for ages.",
              "I couldn't reach a person by phone.", "Still waiting for the phone call back.",
              "I wanted to speak to a person on the phone, not wait on hold.", "The phone line rang out.",
              "I was promised a phone call back from a person."),
}
RECENT_TOPIC_BY_MOMENT = {"claim": ("claims", 0.6, "phone"), "service": ("login", 0.8, "phone")}


def recent_comment(moment: str, rng: random.Random) -> str:
    """An unhappy client's comment of the last 90 days at this moment (see RECENT_TOPICS)."""
    main, share, other = RECENT_TOPIC_BY_MOMENT.get(moment, ("phone", 1.0, "phone"))
    return " ".join(rng.sample(RECENT_TOPICS[main if rng.random() < share else other], 3))


# Stories whose own words stay in the last 90 days too: what the tests and the stories' pages look for.
KEPT_RECENT = frozenset(CONTACT_LOST["unhappy"] + CONTACT_LOST["neutral"] + NIGHT_OUTAGE + DAY_OUTAGE)
