"""Demo content for the fictional "Riverside Pain & Needling Clinic".

Pure data: locations, services, practitioners and condition pages used to fill a demo
installation. All people, addresses and phone numbers are invented (555-01xx numbers are
reserved for fiction). Text is plain: blank lines separate paragraphs; no HTML or markdown.
Each row holds a model's field values by name (and a few keys demo.clinic reads itself).
"""

from typing import Any

# ---------------------------------------------------------------------------
# Shared text blocks (reused by several services and condition pages)
# ---------------------------------------------------------------------------

_RED_FLAGS = (
    "Some symptoms need urgent medical care, not a clinic appointment. If you have loss of bowel or "
    "bladder control, leg weakness that is getting worse quickly over hours or days, sudden severe "
    "changes in feeling, strength, balance or speech, symptoms in both legs at once, or sciatica that "
    "started after a significant injury such as a fall or a car accident, please do not book online. "
    "Go to the nearest emergency department or call 911 now."
)

_SCREENING = (
    "Needling is not right for everyone, and some health situations need a conversation first. When "
    "you book, we ask whether you are pregnant or might be, whether you take blood thinners "
    "(anticoagulants) or have a bleeding disorder, whether you have other medical conditions your "
    "practitioner should know about, how you feel about needles, and whether you have had needling "
    "before. None of these answers automatically rules you out. Your practitioner reads them before "
    "your visit, talks them through with you, and decides with you whether needling is safe and "
    "sensible or whether to adapt or skip it."
    "\n\n"
    "If you have a strong fear of needles, you are welcome here too. We can offer cupping, trigger "
    "point release, instrument-assisted scraping, joint mobilization, or exercise and breathing work "
    "instead."
    "\n\n" + _RED_FLAGS
)

_SESSIONS = (
    "How many sessions you need depends on how long you have had the problem and how your body "
    "responds. As a general guide, a recent (acute) problem often needs 2 to 4 sessions. A "
    "long-standing (chronic) problem usually needs 4 to 6 sessions, spread over several weeks. Milder "
    "cases often improve after 1 to 3 sessions."
    "\n\n"
    "Many patients book a short series, for example once a week for four weeks, and we review your "
    "progress at every visit. Once things have settled, some people choose to come back for an "
    "occasional maintenance session. If you are not improving as expected, your practitioner will tell "
    "you honestly and talk about other options, including a referral if that is the better path."
)

_DRY_NEEDLING_SIDE_EFFECTS = (
    "Most people feel fine after dry needling, but some after-effects are common and expected. The "
    "treated muscles often feel sore, a bit like after a workout, for 24 to 48 hours. You may notice "
    "minor bruising or redness where a needle went in, and some people feel tired or briefly "
    "light-headed afterwards."
    "\n\n"
    "During treatment, a muscle may twitch or cramp for a moment when the needle reaches a tight spot. "
    "This is normal and passes quickly."
    "\n\n"
    "Rarely, needling can cause an infection or irritate a nerve. We use sterile, single-use needles "
    "and clean technique to keep that risk low. A small number of people, fewer than about 2 in 100, "
    "say their sciatica felt worse for a while after treatment. If your pain is still bad two days "
    "after your visit, please call the clinic so your practitioner can check in with you."
)

_ACUPUNCTURE_SIDE_EFFECTS = (
    "Acupuncture is generally well tolerated, but some after-effects are common and expected. You may "
    "feel some soreness around the points used, a bit like after a workout, for 24 to 48 hours. Minor "
    "bruising or redness at a needle site can happen, and some people feel tired, relaxed or briefly "
    "light-headed afterwards."
    "\n\n"
    "While the needles are in, you may feel a dull ache, tingling or heaviness, and occasionally a "
    "muscle twitches or cramps for a moment. Tell your acupuncturist if anything feels too strong; "
    "needles can be adjusted or removed at any time."
    "\n\n"
    "Rarely, needling can cause an infection or irritate a nerve. We use sterile, single-use needles "
    "and clean technique to keep that risk low. A small number of people, fewer than about 2 in 100, "
    "say their sciatica felt worse for a while after treatment. If your pain is still bad two days "
    "after your visit, please call the clinic so your practitioner can check in with you."
)

_BEFORE_NEEDLING = (
    "Eat a light meal an hour or two before your appointment; needling on an empty stomach makes "
    "light-headedness more likely. Drink some water beforehand as well."
    "\n\n"
    "Wear loose, comfortable clothing that lets your practitioner reach your low back, hips and "
    "glutes, or whichever area is bothering you. Shorts or stretchy pants work well. We provide "
    "towels and gowns, and only the area being treated is uncovered."
    "\n\n"
    "Please skip heavy workouts right before your visit. Bring a list of your medications and "
    "supplements, and let us know if anything in your health has changed since you booked."
)

_AFTER_NEEDLING = (
    "Keep moving gently for the rest of the day; an easy walk is ideal. For tight muscles, warmth "
    "often helps; for local soreness at the needle sites, a cold pack may feel better. Your "
    "practitioner will tell you which to use."
    "\n\n"
    "Drink plenty of water and avoid strenuous exercise for 24 hours. Some soreness for a day or two "
    "is normal."
    "\n\n"
    "If your pain is still bad two days after your visit, or anything worries you, please call the "
    "clinic. If you develop any urgent warning signs, such as loss of bowel or bladder control or "
    "quickly worsening leg weakness, seek emergency care right away."
)

_CONDITION_RED_FLAGS = (
    "Loss of bowel or bladder control, leg weakness that is getting worse quickly over hours or days, "
    "sudden severe changes in feeling, strength or balance, symptoms in both legs at once, or back or "
    "leg pain that started after a significant injury such as a fall or a car accident: these are not "
    "reasons to book an appointment. Go to the nearest emergency department or call 911 now."
)

_CONDITION_SESSIONS = (
    "As a general guide, a recent problem often needs 2 to 4 sessions, while a long-standing one "
    "usually needs 4 to 6 sessions spread over several weeks. Milder cases often improve after 1 to 3 "
    "sessions, and some people return for occasional maintenance visits later. Your practitioner will "
    "review your progress at each visit and tell you honestly if another approach makes more sense."
)


# ---------------------------------------------------------------------------
# Locations
# ---------------------------------------------------------------------------

LOCATIONS: list[dict[str, Any]] = [
    {
        "slug": "westerville",
        "town": "Westerville",
        "name": "Riverside Pain & Needling Clinic — Westerville",
        "address": "245 Riverbend Parkway, Suite 110\nWesterville, OH 43081\nUnited States",
        "phone": "+16145550142",
        "timezone": "America/New_York",
    },
    {
        "slug": "calgary",
        "town": "Calgary",
        "name": "Riverside Pain & Needling Clinic — Calgary",
        "address": "820 Riverfront Avenue SE, Suite 300\nCalgary, AB T2G 0A1\nCanada",
        "phone": "+14035550163",
        "timezone": "America/Edmonton",
    },
    {
        # Not a place: free discovery calls are booked here and a practitioner phones the patient.
        "slug": "by-phone",
        "name": "By phone",
        "address": "We call you on the number you give us.\nNo need to travel.",
        "phone": "+16145550142",
        "timezone": "America/New_York",
        "is_by_phone": True,
        "display_order": 900,
    },
]

# Practitioners who take free discovery calls by phone, outside their clinic hours (in the
# "By phone" location's zone, on the days they work in that zone): before and after clinic.
PHONE_CALL_HOURS = [("08:30", "09:00"), ("17:00", "17:30")]


# ---------------------------------------------------------------------------
# Services
# ---------------------------------------------------------------------------

SERVICES: list[dict[str, Any]] = [
    {
        "slug": "dry-needling-initial-assessment",
        "follow_up_service": "dry-needling-follow-up",
        "name": "Initial assessment + dry needling",
        "kind": "treatment",
        "duration_minutes": 60,
        "buffer_after_minutes": 15,
        "price": "120.00",
        "who_can_book": "new",
        "short_description": (
            "Your first visit: we listen to your story, assess posture, movement and tight muscles, "
            "then offer dry needling if it suits you. For new patients."
        ),
        "what_to_expect": (
            "Your first visit starts with a conversation about your pain: where it is, when it started, "
            "what makes it better or worse, your general health, and what you would like to get back to "
            "doing. We also go through your safety screening answers together."
            "\n\n"
            "Next comes a physical assessment. Your practitioner looks at your posture and how you move, "
            "checks strength and flexibility, and gently presses on muscles to find tight, tender spots "
            "called trigger points."
            "\n\n"
            "If dry needling is a good fit and you agree to go ahead, your practitioner places very thin, "
            "single-use needles into those trigger points. You may feel a brief ache or a quick twitch in "
            "the muscle, which is normal. Needles stay in for a few seconds to a few minutes. Treatment may "
            "be combined with trigger point release, joint mobilization or simple exercises."
            "\n\n"
            "Before you leave, your practitioner explains what they found, suggests a plan and how many "
            "visits may help, and shows you a few things to do at home. You can ask questions at any "
            "point, and you can stop treatment whenever you wish."
        ),
        "session_guidance": ("This first visit is the start of a plan, not a one-off fix.\n\n" + _SESSIONS),
        "side_effects": _DRY_NEEDLING_SIDE_EFFECTS,
        "before_visit_advice": (
            "Please allow a few extra minutes for your first visit so you can settle in.\n\n" + _BEFORE_NEEDLING
        ),
        "after_visit_advice": _AFTER_NEEDLING,
        "not_suitable_for": _SCREENING,
        "display_order": 10,
    },
    {
        "slug": "dry-needling-follow-up",
        "name": "Dry needling follow-up",
        "kind": "treatment",
        "duration_minutes": 45,
        "buffer_after_minutes": 15,
        "price": "95.00",
        "who_can_book": "returning",
        "short_description": (
            "A follow-up dry needling session for returning patients: a quick check-in on your progress, "
            "then targeted treatment of tight, painful muscles."
        ),
        "what_to_expect": (
            "Each follow-up starts with a short check-in: how you felt after your last visit, what has "
            "changed, and anything new in your health or medications."
            "\n\n"
            "Your practitioner then re-checks the muscles involved and uses thin, single-use needles on "
            "the trigger points that are still active. You may feel a brief ache or a local twitch in the "
            "muscle. Needles stay in for a few seconds to a few minutes."
            "\n\n"
            "The rest of the session may include trigger point release, joint mobilization and updates to "
            "your home exercises. We finish by agreeing on the next step, whether that is another visit, "
            "a longer gap, or no further treatment for now."
            "\n\n"
            "This appointment is for patients who have already had an initial assessment with us."
        ),
        "session_guidance": _SESSIONS,
        "side_effects": _DRY_NEEDLING_SIDE_EFFECTS,
        "before_visit_advice": _BEFORE_NEEDLING,
        "after_visit_advice": _AFTER_NEEDLING,
        "not_suitable_for": _SCREENING,
        "display_order": 20,
    },
    {
        "slug": "acupuncture-initial-consultation",
        "follow_up_service": "acupuncture-follow-up",
        "name": "Acupuncture initial consultation",
        "kind": "treatment",
        "duration_minutes": 75,
        "buffer_after_minutes": 15,
        "price": "130.00",
        "who_can_book": "new",
        "short_description": (
            "A full Traditional Chinese Medicine assessment and your first acupuncture treatment, with a "
            "gentle approach for acute nerve pain. For new patients."
        ),
        "what_to_expect": (
            "Your acupuncturist begins with a Traditional Chinese Medicine (TCM) assessment. Along with "
            "your pain, they ask about sleep, energy, digestion, stress and your general health, and may "
            "look at your tongue and feel your pulse at the wrist. We also go through your safety "
            "screening answers together."
            "\n\n"
            "Treatment uses very fine, sterile, single-use needles at selected points. Most people feel "
            "little more than a light tap, followed by a dull ache, tingling or warmth. You then rest "
            "comfortably, usually for 20 to 30 minutes, while the needles are in."
            "\n\n"
            "If you are in acute nerve pain, such as a fresh flare of sciatica, your acupuncturist uses a "
            "gentle technique: fewer needles, lighter stimulation, and a position that is comfortable "
            "for you."
            "\n\n"
            "Where it suits you, herbal formulas may be discussed as an optional part of your plan. This "
            "is never required. Please tell us about all medicines and supplements you take so possible "
            "interactions can be checked. Before you leave, we agree on a plan and how many visits may "
            "help."
        ),
        "session_guidance": ("This first visit is the start of a plan, not a one-off fix.\n\n" + _SESSIONS),
        "side_effects": _ACUPUNCTURE_SIDE_EFFECTS,
        "before_visit_advice": (
            "Please allow a few extra minutes for your first visit so you can settle in. If you take "
            "any herbs or supplements, bring a list or the containers."
            "\n\n" + _BEFORE_NEEDLING
        ),
        "after_visit_advice": _AFTER_NEEDLING,
        "not_suitable_for": _SCREENING,
        "display_order": 30,
    },
    {
        "slug": "acupuncture-follow-up",
        "name": "Acupuncture follow-up",
        "kind": "treatment",
        "duration_minutes": 60,
        "buffer_after_minutes": 15,
        "price": "95.00",
        "who_can_book": "returning",
        "short_description": (
            "A follow-up acupuncture session for returning patients, adjusted to how you responded last "
            "time and to how your symptoms are changing."
        ),
        "what_to_expect": (
            "Each follow-up starts with a short check-in on how you felt after your last treatment and "
            "what has changed. Your acupuncturist adjusts the plan to match."
            "\n\n"
            "For sciatica, commonly used points include GB30 near the side of the hip, BL54 in the "
            "buttock, GB29 at the front of the hip, GB31 on the outer thigh, and ST36 just below the knee. "
            "Your acupuncturist chooses the points that fit your pattern of symptoms, and the needling "
            "stays gentle while nerve pain is acute."
            "\n\n"
            "You rest with the needles in, usually for 20 to 30 minutes. Cupping or simple home exercises "
            "may be added if they suit you."
            "\n\n"
            "This appointment is for patients who have already had an acupuncture initial consultation "
            "with us."
        ),
        "session_guidance": _SESSIONS,
        "side_effects": _ACUPUNCTURE_SIDE_EFFECTS,
        "before_visit_advice": _BEFORE_NEEDLING,
        "after_visit_advice": _AFTER_NEEDLING,
        "not_suitable_for": _SCREENING,
        "display_order": 40,
    },
    {
        "slug": "cupping",
        "uses_needles": False,
        "name": "Cupping",
        "kind": "treatment",
        "duration_minutes": 30,
        "buffer_after_minutes": 10,
        "price": "60.00",
        "who_can_book": "anyone",
        "short_description": (
            "Cupping uses gentle suction on the skin to ease tight muscles in the back, hips and "
            "shoulders. No needles, so it is a good option if you are nervous about needling."
        ),
        "what_to_expect": (
            "Cupping uses glass or silicone cups placed on the skin. Gentle suction lifts the skin and the "
            "tissue beneath it. The cups may stay in place for 5 to 10 minutes, or be glided slowly over "
            "lightly oiled skin. Most people describe a pulling or tight feeling that is not painful."
            "\n\n"
            "No needles are used, so cupping is often chosen by people who have a strong fear of needles. "
            "It can also be combined with dry needling or acupuncture."
            "\n\n"
            "If you are new to the clinic, your practitioner starts with a brief look at your health "
            "history and screening answers, and checks the skin over the area to be treated."
        ),
        "session_guidance": (
            "Some people book cupping on its own, and others add it to a needling plan. As a general "
            "guide, a recent problem may need 2 to 4 sessions and a long-standing one 4 to 6 sessions "
            "over several weeks; milder cases often feel better after 1 to 3. Occasional maintenance "
            "sessions later are up to you."
        ),
        "side_effects": (
            "Cupping usually leaves round marks where the cups were placed. They can range from light "
            "pink to dark red or purple, are not usually painful, and fade over a few days, sometimes a "
            "little longer. Please keep this in mind if you have an event coming up."
            "\n\n"
            "The treated area may feel mildly sore or tender for a day or two, similar to after a "
            "massage. Some people feel tired or briefly light-headed afterwards. Rarely, the skin can "
            "become irritated. If anything still bothers you after two days, please call the clinic."
        ),
        "before_visit_advice": (
            "Eat a light meal beforehand and drink some water. Wear loose, comfortable clothing that gives "
            "easy access to your back, hips or shoulders. Please avoid applying lotion to the area on the "
            "day of your visit, and skip heavy workouts right before."
        ),
        "after_visit_advice": (
            "Move gently for the rest of the day; an easy walk is ideal. Drink plenty of water, keep the "
            "treated area warm and covered, and avoid strenuous exercise for 24 hours. The marks will fade "
            "on their own. If you are still sore after two days, or anything worries you, please call "
            "the clinic."
        ),
        "not_suitable_for": (
            "Cupping is not done over broken skin, sunburn, rashes, skin infections or varicose veins. "
            "Please tell us when you book if you are pregnant or might be, or if you take blood thinners "
            "(anticoagulants) or have a bleeding disorder, as cupping can cause more marking. These do "
            "not automatically rule you out: your practitioner will discuss them with you and decide "
            "together whether and how to go ahead."
            "\n\n" + _RED_FLAGS
        ),
        "display_order": 50,
    },
    {
        "slug": "free-discovery-call",
        "uses_needles": False,
        "name": "Free discovery call",
        "kind": "discovery_call",
        "duration_minutes": 15,
        "buffer_after_minutes": 0,
        "price": None,
        "who_can_book": "anyone",
        "short_description": (
            "A free 15-minute phone call. Tell us your story, ask your questions, and find out whether "
            "needling, acupuncture or cupping may suit you before you book."
        ),
        "what_to_expect": (
            "At the time you choose, one of our practitioners calls you on the number you gave us. There "
            "is no charge and no obligation to book anything."
            "\n\n"
            "You tell us what is going on: where it hurts, how long it has been a problem, and what you "
            "have tried so far. Ask anything you like, for example how dry needling differs from "
            "acupuncture, what a first visit involves, or what it costs."
            "\n\n"
            "We will tell you honestly whether we think one of our treatments may help and which "
            "practitioner might suit you. If it sounds like you need a different kind of care, we will "
            "say so. The call is a conversation, not a medical examination or diagnosis."
        ),
        "session_guidance": "A single call. You are welcome to book another one if new questions come up.",
        "side_effects": "",
        "before_visit_advice": (
            "Have your phone nearby at the booked time, somewhere you can talk comfortably. It can help to "
            "jot down when your pain started, what makes it better or worse, and your questions."
        ),
        "after_visit_advice": (
            "If you decide to go ahead, you can book your first visit online or call the clinic. There is "
            "no pressure to decide on the call."
        ),
        "not_suitable_for": (
            "The discovery call is not for urgent problems and cannot replace a medical assessment.\n\n" + _RED_FLAGS
        ),
        "display_order": 60,
    },
]


# ---------------------------------------------------------------------------
# Practitioners (fictional people)
# ---------------------------------------------------------------------------

PRACTITIONERS: list[dict[str, Any]] = [
    {
        "slug": "maya-lindqvist",
        "name": "Maya Lindqvist",
        "title": "Physiotherapist",
        "credentials": "PT, DPT, certified in dry needling",
        "bio": (
            "Maya is a physiotherapist with a special interest in low back pain and sciatica. She "
            "combines dry needling with hands-on work and simple, realistic exercise plans, and she "
            "likes to explain what she finds in plain language."
            "\n\n"
            "She also offers cupping for patients who would rather avoid needles. Outside the clinic, "
            "Maya spends her weekends hiking and paddling on the local rivers."
        ),
        "services": [
            "dry-needling-initial-assessment",
            "dry-needling-follow-up",
            "cupping",
            "free-discovery-call",
        ],
        "locations": ["westerville"],
        "takes_phone_calls": True,
        "username": "maya.lindqvist",
        "display_order": 10,
    },
    {
        "slug": "daniel-okafor",
        "name": "Dr. Daniel Okafor",
        "title": "Chiropractor",
        "credentials": "DC, certified in dry needling",
        "bio": (
            "Daniel is a chiropractor who uses dry needling alongside joint mobilization and exercise "
            "for back, neck and hip pain. He works with many desk workers and weekend athletes."
            "\n\n"
            "He divides his week between our Westerville and Calgary clinics. Patients say they "
            "appreciate his calm, unhurried approach and his clear home programs."
        ),
        "services": [
            "dry-needling-initial-assessment",
            "dry-needling-follow-up",
            "free-discovery-call",
        ],
        "locations": ["westerville", "calgary"],
        "takes_phone_calls": True,
        "username": "dr.okafor",
        "display_order": 20,
    },
    {
        "slug": "sofia-marchetti",
        "name": "Sofia Marchetti",
        "title": "Licensed Acupuncturist",
        "credentials": "L.Ac.",
        "bio": (
            "Sofia is a licensed acupuncturist trained in Traditional Chinese Medicine. She treats "
            "sciatica, back pain, headaches and stress-related muscle tension, using a gentle technique "
            "that suits people who are new to acupuncture."
            "\n\n"
            "She also offers cupping, on its own or as part of a treatment. Sofia takes time to explain "
            "each step so you always know what to expect."
        ),
        "services": [
            "acupuncture-initial-consultation",
            "acupuncture-follow-up",
            "cupping",
            "free-discovery-call",
        ],
        "locations": ["calgary"],
        "username": "sofia.marchetti",
        "display_order": 30,
    },
    {
        "slug": "hannah-cho",
        "name": "Dr. Hannah Cho",
        "title": "Doctor of Acupuncture",
        "credentials": "DACM, L.Ac.",
        "bio": (
            "Hannah is a doctor of acupuncture and Chinese medicine with a focus on long-standing pain, "
            "including sciatica and neck and shoulder problems. She combines acupuncture and cupping "
            "with practical advice on movement, sleep and stress."
            "\n\n"
            "At the initial consultation, Hannah may discuss herbal formulas as an optional part of your "
            "plan. She always reviews your current medications and supplements first and is happy to "
            "work alongside your family doctor."
        ),
        "services": [
            "acupuncture-initial-consultation",
            "acupuncture-follow-up",
            "cupping",
            "free-discovery-call",
        ],
        "locations": ["westerville", "calgary"],
        "username": "dr.cho",
        "display_order": 40,
    },
]


# ---------------------------------------------------------------------------
# Conditions
# ---------------------------------------------------------------------------

CONDITIONS: list[dict[str, Any]] = [
    {
        "slug": "sciatica",
        "name": "Sciatica",
        "summary": (
            "Pain, tingling or numbness that runs from the low back or buttock down the leg, caused by "
            "irritation of the sciatic nerve or its roots. Needling and acupuncture may help ease the "
            "muscle tension that often comes with it."
        ),
        "body": (
            "Sciatica is not a diagnosis in itself but a description of symptoms: pain, tingling, "
            "numbness or weakness that travels from the low back or buttock down the back or side of one "
            "leg, sometimes into the foot. It happens when the sciatic nerve or the nerve roots that form "
            "it are irritated, for example by a disc problem, narrowing around the nerve, or tight "
            "muscles in the hip and buttock."
            "\n\n"
            "Dry needling aims to release tight, tender trigger points in muscles that often guard or "
            "press around the painful area. Common targets include the lumbar erector spinae, the "
            "multifidi, quadratus lumborum, tensor fascia lata, gluteus maximus and medius, piriformis "
            "and gastrocnemius (the calf). Acupuncture for sciatica often uses points such as GB30, BL54, "
            "GB29, GB31 and ST36, with a gentle technique while nerve pain is acute. Cupping can ease "
            "muscle tension for people who prefer to avoid needles. Many patients find these treatments "
            "reduce pain and help them move more easily, especially when combined with exercise; results "
            "vary from person to person."
            "\n\n" + _CONDITION_SESSIONS
        ),
        "urgent_signs": _CONDITION_RED_FLAGS,
        "related_services": [
            "dry-needling-initial-assessment",
            "dry-needling-follow-up",
            "acupuncture-initial-consultation",
            "acupuncture-follow-up",
            "cupping",
            "free-discovery-call",
        ],
        "display_order": 10,
    },
    {
        "slug": "piriformis-syndrome",
        "name": "Piriformis syndrome",
        "summary": (
            "Deep buttock pain, sometimes spreading down the leg, linked to a tight or irritated "
            "piriformis muscle near the sciatic nerve. Needling may help release the muscle."
        ),
        "body": (
            "The piriformis is a small muscle deep in the buttock that helps turn the hip outward. The "
            "sciatic nerve runs very close to it. When the piriformis is tight or irritated, it can cause "
            "deep buttock pain and sometimes sciatica-like symptoms down the back of the leg. Sitting for "
            "long periods, driving, or climbing stairs often make it worse."
            "\n\n"
            "Dry needling can target trigger points in the piriformis and nearby muscles such as gluteus "
            "maximus and medius and tensor fascia lata. Acupuncture around the hip and buttock, for "
            "example at GB30 and BL54, is another option, and cupping can ease tension in the surrounding "
            "muscles. Treatment is usually paired with stretches and hip-strengthening exercises."
            "\n\n" + _CONDITION_SESSIONS
        ),
        "urgent_signs": _CONDITION_RED_FLAGS,
        "related_services": [
            "dry-needling-initial-assessment",
            "dry-needling-follow-up",
            "acupuncture-initial-consultation",
            "acupuncture-follow-up",
            "cupping",
            "free-discovery-call",
        ],
        "display_order": 20,
    },
    {
        "slug": "lumbar-disc-herniation",
        "name": "Lumbar disc herniation",
        "summary": (
            "A disc in the low back bulges or tears and can irritate a nearby nerve, causing back pain "
            "and often sciatica. Needling may ease the muscle spasm and pain that come with it."
        ),
        "body": (
            "The discs between the bones of the spine act as cushions. In a lumbar disc herniation, part "
            "of a disc in the low back bulges or pushes out and can press on or irritate a nerve root. "
            "This may cause low back pain, pain down one leg, tingling or numbness. Many disc "
            "herniations settle with time and the right kind of activity."
            "\n\n"
            "Needling does not move or repair the disc. What it may do is calm the protective muscle "
            "spasm around the spine and hip, such as in the lumbar erector spinae, multifidi and "
            "quadratus lumborum, and help with pain so that you can keep moving and do your exercises. "
            "Acupuncture with a gentle technique is another option while nerve pain is acute."
            "\n\n" + _CONDITION_SESSIONS
        ),
        "urgent_signs": _CONDITION_RED_FLAGS,
        "related_services": [
            "dry-needling-initial-assessment",
            "dry-needling-follow-up",
            "acupuncture-initial-consultation",
            "acupuncture-follow-up",
            "free-discovery-call",
        ],
        "display_order": 30,
    },
    {
        "slug": "spinal-stenosis",
        "name": "Spinal stenosis",
        "summary": (
            "A narrowing of the spaces around the spinal nerves, often with age, that can cause back "
            "pain and leg pain or heaviness when walking. Needling may help ease related muscle pain."
        ),
        "body": (
            "Spinal stenosis means the spaces that the spinal cord and nerves pass through have become "
            "narrower, most often in the low back and usually because of age-related changes. People "
            "often notice pain, heaviness, tingling or tiredness in the legs when standing or walking, "
            "which eases when they sit down or bend forward."
            "\n\n"
            "Needling cannot widen the spinal canal. It may help ease the tight, painful muscles of the "
            "back, hips and legs that often come with stenosis, and acupuncture may help some people "
            "manage pain. We combine treatment with exercises to keep you walking and active, and we work "
            "alongside your doctor."
            "\n\n" + _CONDITION_SESSIONS
        ),
        "urgent_signs": _CONDITION_RED_FLAGS,
        "related_services": [
            "dry-needling-initial-assessment",
            "dry-needling-follow-up",
            "acupuncture-initial-consultation",
            "acupuncture-follow-up",
            "free-discovery-call",
        ],
        "display_order": 40,
    },
    {
        "slug": "low-back-pain",
        "name": "Low back pain",
        "summary": (
            "Aching, stiffness or muscle tightness in the low back, one of the most common reasons people "
            "seek care. Needling, acupuncture and cupping may help ease pain and stiffness."
        ),
        "body": (
            "Low back pain is very common and usually not caused by anything serious. It often comes from "
            "strained or overworked muscles, stiffness, long hours of sitting, or a sudden awkward "
            "movement. Most episodes improve within weeks, but some keep coming back or linger."
            "\n\n"
            "Dry needling can release trigger points in muscles such as the lumbar erector spinae, "
            "multifidi, quadratus lumborum and the gluteal muscles. Acupuncture and cupping are other "
            "options that many people find relaxing and helpful for pain and stiffness. We pair treatment "
            "with movement and simple exercises, because staying active is one of the best things you can "
            "do for your back."
            "\n\n" + _CONDITION_SESSIONS
        ),
        "urgent_signs": _CONDITION_RED_FLAGS,
        "related_services": [
            "dry-needling-initial-assessment",
            "dry-needling-follow-up",
            "acupuncture-initial-consultation",
            "acupuncture-follow-up",
            "cupping",
            "free-discovery-call",
        ],
        "display_order": 50,
    },
    {
        "slug": "tension-headaches",
        "name": "Tension headaches",
        "summary": (
            "A dull, pressing headache, often like a tight band around the head, linked to tension in the "
            "neck, shoulders and jaw. Needling and acupuncture may help ease the muscle tension."
        ),
        "body": (
            "Tension headaches usually feel like a dull, steady pressure or a tight band around the "
            "forehead, temples or back of the head. They are often linked with tight muscles in the neck, "
            "upper shoulders and jaw, and with stress, poor sleep or long hours at a screen."
            "\n\n"
            "Dry needling can target trigger points in the upper trapezius, the muscles at the base of "
            "the skull and other neck muscles that can refer pain into the head. Acupuncture is also "
            "commonly used for tension headaches, and cupping across the upper back and shoulders can ease "
            "tension. We often add posture tips and breathing or relaxation exercises."
            "\n\n" + _CONDITION_SESSIONS
        ),
        "urgent_signs": (
            "A sudden, severe headache, or a headache with weakness, numbness, confusion, trouble "
            "speaking, changes in vision, or fever with a stiff neck, needs urgent medical care. Go to the "
            "nearest emergency department or call 911 rather than booking an appointment."
        ),
        "related_services": [
            "dry-needling-initial-assessment",
            "dry-needling-follow-up",
            "acupuncture-initial-consultation",
            "acupuncture-follow-up",
            "cupping",
            "free-discovery-call",
        ],
        "display_order": 60,
    },
    {
        "slug": "tennis-golfers-elbow",
        "name": "Tennis / golfer's elbow",
        "summary": (
            "Pain on the outer (tennis) or inner (golfer's) side of the elbow from overloaded forearm "
            "muscles and tendons. Needling may help ease pain alongside a strengthening plan."
        ),
        "body": (
            "Tennis elbow causes pain on the outer side of the elbow, and golfer's elbow on the inner "
            "side. Despite the names, most people who have them do not play either sport. Both come from "
            "overloading the forearm muscles and tendons with repeated gripping, lifting or typing."
            "\n\n"
            "Dry needling can target tight, tender spots in the forearm muscles, and acupuncture around "
            "the elbow and forearm is another option. Needling is most useful as part of a plan that "
            "includes a gradual strengthening program and changes to the activities that aggravate the "
            "elbow, because tendons need the right load to recover."
            "\n\n" + _CONDITION_SESSIONS
        ),
        "related_services": [
            "dry-needling-initial-assessment",
            "dry-needling-follow-up",
            "acupuncture-initial-consultation",
            "acupuncture-follow-up",
            "free-discovery-call",
        ],
        "display_order": 70,
    },
    {
        "slug": "tmj-disorder",
        "name": "TMJ disorder",
        "summary": (
            "Pain, clicking or stiffness in the jaw joint and chewing muscles, often with clenching or "
            "grinding. Needling and acupuncture may help ease tight jaw muscles."
        ),
        "body": (
            "The temporomandibular joint (TMJ) connects your lower jaw to your skull, just in front of the "
            "ear. TMJ disorders can cause jaw pain, clicking, a jaw that feels stiff or tired, headaches or "
            "ear-area aching. Clenching, grinding and stress often play a part."
            "\n\n"
            "Dry needling can release trigger points in the chewing muscles, such as the masseter, and in "
            "the neck muscles that often tighten along with them. Acupuncture is another option that many "
            "people find relaxing. We usually combine treatment with simple jaw exercises and habits to "
            "reduce clenching, and we are happy to work alongside your dentist."
            "\n\n" + _CONDITION_SESSIONS
        ),
        "related_services": [
            "dry-needling-initial-assessment",
            "dry-needling-follow-up",
            "acupuncture-initial-consultation",
            "acupuncture-follow-up",
            "free-discovery-call",
        ],
        "display_order": 80,
    },
    {
        "slug": "frozen-shoulder",
        "name": "Frozen shoulder",
        "summary": (
            "A painful, stiff shoulder that gradually loses movement and can take many months to recover. "
            "Needling and acupuncture may help with pain and muscle tension during recovery."
        ),
        "body": (
            "Frozen shoulder (adhesive capsulitis) happens when the capsule around the shoulder joint "
            "becomes inflamed, thickened and tight. It typically moves through stages: a painful phase, a "
            "stiff phase, and a slow thaw. Recovery often takes many months, and it is more common in "
            "people over 40 and in people with diabetes."
            "\n\n"
            "Needling does not release the joint capsule itself, but it may ease pain and the tight "
            "muscles around the shoulder, neck and upper back that work overtime when the shoulder is "
            "stiff. Acupuncture and cupping are other options. We combine treatment with gentle "
            "stretching and movement suited to the stage you are in."
            "\n\n" + _CONDITION_SESSIONS
        ),
        "related_services": [
            "dry-needling-initial-assessment",
            "dry-needling-follow-up",
            "acupuncture-initial-consultation",
            "acupuncture-follow-up",
            "cupping",
            "free-discovery-call",
        ],
        "display_order": 90,
    },
    {
        "slug": "neck-pain",
        "name": "Neck pain",
        "summary": (
            "Aching, stiffness or tight muscles in the neck and upper shoulders, often linked to posture, "
            "screen time or stress. Needling, acupuncture and cupping may help ease pain and stiffness."
        ),
        "body": (
            "Neck pain is very common. It often comes from tight or overworked muscles, long hours at a "
            "desk or screen, sleeping in an awkward position, or stress. It can also cause headaches or "
            "pain spreading into the shoulders."
            "\n\n"
            "Dry needling can target trigger points in muscles such as the upper trapezius, levator "
            "scapulae and the small muscles at the base of the skull. Acupuncture and cupping are other "
            "options many people find helpful for pain and stiffness. We add posture advice and simple "
            "exercises you can do at your desk."
            "\n\n" + _CONDITION_SESSIONS
        ),
        "urgent_signs": (
            "Neck pain after a significant injury such as a fall or car accident, or neck pain with sudden "
            "severe changes in feeling, strength, balance or speech, needs urgent medical care. Go to the "
            "nearest emergency department or call 911 rather than booking an appointment."
        ),
        "related_services": [
            "dry-needling-initial-assessment",
            "dry-needling-follow-up",
            "acupuncture-initial-consultation",
            "acupuncture-follow-up",
            "cupping",
            "free-discovery-call",
        ],
        "display_order": 100,
    },
]
