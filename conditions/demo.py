"""Demo medical content for the made-up clinic: conditions, treatments, FAQs and a source.

`manage.py load_demo` calls `load_demo_content()` after `clinic.demo.load_demo()`, so a
first run shows real-looking pages on neck pain and low back pain. The facts follow a
public page on chronic neck pain, but every sentence is written anew, in plain Danish
and English. Figures without a named source are shown without one; the one named source
is cited as published, without an invented link.

Loading is idempotent: records are found by a stable key (Danish slug, question or
title), child rows by their condition and order, and nothing is saved unless it differs.
"""

from datetime import UTC, date, datetime

from clinic.demo import PRACTITIONER, upsert
from clinic.fields import RichTextField
from clinic.models import Practitioner
from conditions.models import (
    FAQ,
    Condition,
    ConditionSection,
    DiagnosisStep,
    FAQTopic,
    KeyFigure,
    Publishable,
    RiskFactor,
    Source,
    Symptom,
    Treatment,
    TreatmentRecommendation,
)

PUBLISHED_AT = datetime(2026, 10, 1, tzinfo=UTC)
REVIEWED_ON = date(2026, 10, 1)

BURDEN_OF_DISEASE = "Sygdomsbyrden i Danmark"

SOURCES = [
    {
        "title_da": BURDEN_OF_DISEASE,
        "title_en": "The burden of disease in Denmark",
        "publisher": "Sundhedsstyrelsen",
        "year": 2022,
        "url": "",
    },
]

# Treatments are referred to below by their Danish slug.
GOLD = "guldimplantation"
ACUPUNCTURE = "akupunktur"
NERVE_BLOCK = "blokadebehandling"
CHIROPRACTIC = "kiropraktik"
MASSAGE = "massage"
COLD_HEAT = "kulde-og-varmebehandling"
MEDICATION = "smertestillende-medicin"
EXERCISE = "oevelsesterapi"

TREATMENTS = [
    {
        "slug_da": GOLD,
        "slug_en": "gold-implantation",
        "name_da": "Guldimplantation",
        "name_en": "Gold implantation",
        "offered_by_clinic": True,
        "summary_da": (
            "Lægen lægger små stykker 24 karat guld tæt på det sted, der gør ondt. "
            "Du er lokalbedøvet. Behandlingen er til smerter, der har varet længe."
        ),
        "summary_en": (
            "The doctor places small pieces of 24-carat gold close to the painful area "
            "while you are under local anaesthesia. The treatment is for long-lasting pain."
        ),
        "meta_description_da": (
            "Guldimplantation mod langvarige smerter: hvad behandlingen er, hvordan den "
            "foregår, og hvad du skal gøre før og efter."
        ),
        "meta_description_en": (
            "Gold implantation for long-lasting pain: what the treatment is, how it is "
            "done, and what to do before and after."
        ),
        "body_da": (
            "<p>Guldimplantation er en behandling af smerter, der har varet længe. Lægen "
            "lægger nogle meget små stykker 24 karat guld ind i vævet tæt på det sted, der "
            "gør ondt. Ved nakkesmerter ligger guldet langs nakken.</p>"
            "<p>Metoden er udviklet til kroniske smerter. Dyrlæger har brugt den siden 1980, "
            "blandt andet til hunde med ondt i leddene.</p>"
            "<p>Ved kroniske nakkesmerter er det vist, at behandlingen kan lindre i lang tid. "
            "Ikke alle får lige meget ud af den. Lægen taler med dig om, hvad du kan "
            "forvente.</p>"
            "<p>Behandlingen kan især være en mulighed, hvis du har haft ondt i mere end "
            "½-1 år, eller hvis anden behandling ikke har hjulpet nok.</p>"
        ),
        "body_en": (
            "<p>Gold implantation is a treatment for pain that has lasted a long time. The "
            "doctor places a few very small pieces of 24-carat gold in the tissue close to "
            "the painful spot. For neck pain, the gold is placed along the neck.</p>"
            "<p>The method was developed for chronic pain. Vets have used it since 1980, "
            "among other things for dogs with painful joints.</p>"
            "<p>For chronic neck pain, the treatment has been shown to relieve pain for a "
            "long time. Not everyone benefits equally. The doctor will talk with you about "
            "what you can expect.</p>"
            "<p>The treatment is mainly an option if you have been in pain for more than "
            "six months to a year, or if other treatment has not helped enough.</p>"
        ),
        "how_it_is_done_da": (
            "<h3>Før behandlingen</h3>"
            "<ol>"
            "<li>Ring til klinikken og bestil tid. Du kan også ringe for en snak, der ikke "
            "forpligter dig til noget.</li>"
            "<li>Lægen skal se et røntgenbillede eller en scanning af det sted, der gør ondt. "
            "Vi fortæller dig, hvad der er brug for. Er dine billeder under 2 år gamle, kan "
            "de ofte bruges.</li>"
            "<li>Bed den røntgenafdeling, der tog billederne, om at sende dem til dig. Det "
            "har afdelingen pligt til.</li>"
            "<li>Send billederne til os i god tid før din tid hos lægen. Spørg os, hvordan "
            "du sender dem sikkert.</li>"
            "<li>Tager du blodfortyndende medicin, skal du holde pause med den i nogle dage "
            "før behandlingen. Det aftaler vi med dig, når du bestiller tid.</li>"
            "</ol>"
            "<h3>På dagen</h3>"
            "<p>Først bliver området bedøvet. Så fører lægen forsigtigt guldstykkerne ind "
            "gennem tynde nåle. Behandlingen er skånsom.</p>"
        ),
        "how_it_is_done_en": (
            "<h3>Before the treatment</h3>"
            "<ol>"
            "<li>Call the clinic to book a time. You can also call for a talk that does not "
            "commit you to anything.</li>"
            "<li>The doctor needs to see an X-ray or a scan of the painful area. We will "
            "tell you what is needed. If your images are less than 2 years old, they can "
            "often be used.</li>"
            "<li>Ask the X-ray department that took the images to send them to you. The "
            "department is obliged to do so.</li>"
            "<li>Send the images to us well before your appointment. Ask us how to send "
            "them safely.</li>"
            "<li>If you take blood-thinning medicine, you need to pause it for a few days "
            "before the treatment. We agree this with you when you book.</li>"
            "</ol>"
            "<h3>On the day</h3>"
            "<p>First the area is numbed. Then the doctor gently places the pieces of gold "
            "through thin needles. The treatment is gentle.</p>"
        ),
        "anaesthesia_da": (
            "<p>Du bliver lokalbedøvet. Du er altså vågen under hele behandlingen.</p>"
            "<p>Bedøvelsen kan gøre dig lidt sløv bagefter. Kør derfor ikke bil de første "
            "timer. Tag gerne en pårørende med, som kan køre dig hjem.</p>"
        ),
        "anaesthesia_en": (
            "<p>You are given a local anaesthetic, so you are awake during the whole "
            "treatment.</p>"
            "<p>The anaesthetic can make you a little drowsy afterwards. So do not drive for "
            "the first few hours. It is a good idea to bring a relative or friend who can "
            "drive you home.</p>"
        ),
        "aftercare_da": (
            "<p>Lad en anden køre dig hjem, og kør ikke selv bil de første timer.</p>"
            "<p>Har du holdt pause med blodfortyndende medicin, aftaler lægen med dig, "
            "hvornår du skal begynde igen.</p>"
            "<p>Ring til klinikken, hvis du har spørgsmål efter behandlingen.</p>"
        ),
        "aftercare_en": (
            "<p>Let someone else drive you home, and do not drive yourself for the first few "
            "hours.</p>"
            "<p>If you have paused blood-thinning medicine, the doctor will agree with you "
            "when to start again.</p>"
            "<p>Call the clinic if you have any questions after the treatment.</p>"
        ),
    },
    {
        "slug_da": ACUPUNCTURE,
        "slug_en": "acupuncture",
        "name_da": "Akupunktur",
        "name_en": "Acupuncture",
        "summary_da": "Tynde nåle sættes i huden på bestemte steder. Kan lindre nye smerter.",
        "summary_en": "Thin needles are placed in the skin at chosen points. "
        "It can ease pain that is new.",
        "meta_description_da": "Akupunktur mod smerter: hvad det er, og hvornår det hjælper bedst.",
        "meta_description_en": "Acupuncture for pain: what it is and when it helps most.",
        "body_da": (
            "<p>Ved akupunktur sætter behandleren tynde nåle i huden på udvalgte steder. Det "
            "kan dæmpe smerterne.</p>"
            "<p>Akupunktur virker som regel bedst, når smerterne er under 6 måneder gamle. "
            "Har de varet mere end 6-12 måneder, holder virkningen ofte kun kort.</p>"
        ),
        "body_en": (
            "<p>In acupuncture, the therapist places thin needles in the skin at chosen "
            "points. This can dampen the pain.</p>"
            "<p>Acupuncture usually works best when the pain is less than 6 months old. If "
            "it has lasted more than 6-12 months, the effect often does not last long.</p>"
        ),
    },
    {
        "slug_da": NERVE_BLOCK,
        "slug_en": "nerve-block",
        "name_da": "Blokadebehandling",
        "name_en": "Nerve block treatment",
        "summary_da": "En indsprøjtning med bedøvende medicin tæt på en nerve eller det "
        "sted, der gør ondt.",
        "summary_en": "An injection of numbing medicine close to a nerve or the painful area.",
        "meta_description_da": "Blokadebehandling mod smerter: en indsprøjtning, der kan "
        "dæmpe smerterne i en periode.",
        "meta_description_en": "Nerve block treatment for pain: an injection that can ease "
        "the pain for a while.",
        "body_da": (
            "<p>Ved en blokade sprøjter lægen bedøvende medicin ind tæt på en nerve eller det "
            "sted, der gør ondt. Det kan dæmpe smerterne i en periode.</p>"
            "<p>Blokader bruges mest ved nye smerter. Ved smerter, der har varet mere end "
            "6-12 måneder, hjælper de ofte kun kort tid.</p>"
        ),
        "body_en": (
            "<p>In a nerve block, the doctor injects numbing medicine close to a nerve or the "
            "painful area. This can ease the pain for a while.</p>"
            "<p>Nerve blocks are mostly used for new pain. For pain that has lasted more than "
            "6-12 months, they often help only for a short time.</p>"
        ),
    },
    {
        "slug_da": CHIROPRACTIC,
        "slug_en": "chiropractic",
        "name_da": "Kiropraktik",
        "name_en": "Chiropractic",
        "summary_da": "Behandling med hænderne, der løsner led og muskler i ryg og nakke.",
        "summary_en": "Treatment by hand that loosens joints and muscles in the back and neck.",
        "meta_description_da": "Kiropraktik mod ryg- og nakkesmerter: hvad det er, og "
        "hvornår det hjælper bedst.",
        "meta_description_en": "Chiropractic for back and neck pain: what it is and when it "
        "helps most.",
        "body_da": (
            "<p>En kiropraktor undersøger ryg og nakke og behandler med hænderne. Led og "
            "muskler bliver løsnet med små, hurtige tryk. Det kaldes manipulation. "
            "Fysioterapeuter, osteopater og læger giver også den slags behandling.</p>"
            "<p>Kiropraktik kan hjælpe på nye smerter. Ved kroniske smerter varer virkningen "
            "ofte kun kort.</p>"
        ),
        "body_en": (
            "<p>A chiropractor examines the back and neck and treats with the hands. Joints "
            "and muscles are loosened with small, quick pushes. This is called manipulation. "
            "Physiotherapists, osteopaths and doctors also give this kind of treatment.</p>"
            "<p>Chiropractic can help with new pain. For chronic pain, the effect often "
            "lasts only a short time.</p>"
        ),
    },
    {
        "slug_da": MASSAGE,
        "slug_en": "massage",
        "name_da": "Massage",
        "name_en": "Massage",
        "summary_da": "Massage kan løsne spændte muskler og lindre, især når smerterne er nye.",
        "summary_en": "Massage can loosen tense muscles and bring relief, especially when "
        "the pain is new.",
        "meta_description_da": "Massage mod smerter i nakke og ryg: hvornår det kan hjælpe.",
        "meta_description_en": "Massage for neck and back pain: when it can help.",
        "body_da": (
            "<p>Massage kan løsne spændte muskler og give ro i kroppen. Det kan lindre, især "
            "når smerterne er nye.</p>"
            "<p>Ved smerter, der har varet mere end 6-12 måneder, holder lindringen ofte kun "
            "kort.</p>"
        ),
        "body_en": (
            "<p>Massage can loosen tense muscles and help the body relax. It can bring "
            "relief, especially when the pain is new.</p>"
            "<p>For pain that has lasted more than 6-12 months, the relief often does not "
            "last long.</p>"
        ),
    },
    {
        "slug_da": COLD_HEAT,
        "slug_en": "cold-and-heat-treatment",
        "name_da": "Kulde- og varmebehandling",
        "name_en": "Cold and heat treatment",
        "summary_da": "En varmepude, et varmt bad eller en ispose kan lindre for en tid.",
        "summary_en": "A heat pad, a warm bath or an ice pack can bring relief for a while.",
        "meta_description_da": "Kulde og varme mod smerter: sådan bruger du en varmepude "
        "eller en ispose.",
        "meta_description_en": "Cold and heat for pain: how to use a heat pad or an ice pack.",
        "body_da": (
            "<p>Varme får musklerne til at slappe af og giver bedre blodomløb. Brug fx en "
            "varmepude, eller tag et varmt bad i højst 20 minutter. Pas på, at det ikke "
            "bliver for varmt.</p>"
            "<p>Kulde, fx en ispose, kan også lindre en tid. Har du andre sygdomme, så spørg "
            "din læge først.</p>"
        ),
        "body_en": (
            "<p>Heat helps the muscles relax and improves blood flow. Use a heat pad, for "
            "example, or take a warm bath for up to 20 minutes. Take care that it is not too "
            "hot.</p>"
            "<p>Cold, such as an ice pack, can also bring relief for a while. If you have "
            "other illnesses, ask your doctor first.</p>"
        ),
    },
    {
        "slug_da": MEDICATION,
        "slug_en": "pain-medication",
        "name_da": "Smertestillende medicin",
        "name_en": "Pain medication",
        "summary_da": "Medicin kan holde smerterne nede. Hvilken slags afhænger af, hvor "
        "længe du har haft ondt.",
        "summary_en": "Medicine can keep the pain down. Which kind depends on how long you "
        "have been in pain.",
        "meta_description_da": "Smertestillende medicin mod nye og kroniske smerter: de "
        "mest brugte typer.",
        "meta_description_en": "Pain medication for new and chronic pain: the types most "
        "often used.",
        "body_da": (
            "<p>Ved nye smerter bruger man især paracetamol og gigtmedicin "
            "(NSAID-præparater).</p>"
            "<p>Ved kroniske smerter kan lægen også foreslå svage morfinlignende midler. "
            "Nogle former for medicin mod depression og epilepsi kan også dæmpe smerter.</p>"
            "<p>Tal altid med din læge, før du tager smertestillende medicin i længere "
            "tid.</p>"
        ),
        "body_en": (
            "<p>For new pain, paracetamol and anti-inflammatory painkillers (NSAIDs) are "
            "used most.</p>"
            "<p>For chronic pain, the doctor may also suggest weak opioids. Some medicines "
            "for depression and epilepsy can also dampen pain.</p>"
            "<p>Always talk to your doctor before taking pain medication for a long "
            "time.</p>"
        ),
    },
    {
        "slug_da": EXERCISE,
        "slug_en": "exercise-therapy",
        "name_da": "Øvelsesterapi",
        "name_en": "Exercise therapy",
        "summary_da": "Øvelser, der gør musklerne stærkere og leddene mere bevægelige.",
        "summary_en": "Exercises that make the muscles stronger and the joints move more freely.",
        "meta_description_da": "Øvelsesterapi mod smerter: styrke, stræk og bevægelighed, "
        "gerne med en fysioterapeut.",
        "meta_description_en": "Exercise therapy for pain: strength, stretching and "
        "mobility, ideally with a physiotherapist.",
        "body_da": (
            "<p>Øvelsesterapi er træning, der styrker musklerne, strækker dem ud og gør "
            "leddene mere bevægelige. Det virker bedst, når en fysioterapeut viser dig "
            "øvelserne og følger med.</p>"
            "<p>Regn med at træne i flere uger, før du mærker en virkning. Øvelserne må "
            "ikke gøre ondt.</p>"
        ),
        "body_en": (
            "<p>Exercise therapy is training that strengthens the muscles, stretches them "
            "and helps the joints move more freely. It works best when a physiotherapist "
            "shows you the exercises and follows your progress.</p>"
            "<p>Expect to train for several weeks before you notice an effect. The "
            "exercises must not hurt.</p>"
        ),
    },
]

NECK_PAIN = "nakkesmerter"
LOW_BACK_PAIN = "laendesmerter"

NECK_PAIN_CONDITION = {
    "slug_da": NECK_PAIN,
    "slug_en": "neck-pain",
    "name_da": "Nakkesmerter",
    "name_en": "Neck pain",
    "order": 1,
    "summary_da": (
        "Ondt i nakke og skuldre i lang tid. Læs om årsager og symptomer, og om hvad der "
        "kan hjælpe, når smerterne har varet mere end et halvt år."
    ),
    "summary_en": (
        "Pain in the neck and shoulders that lasts a long time. Read about causes and "
        "symptoms, and what can help when the pain has lasted more than six months."
    ),
    "meta_description_da": (
        "Kroniske nakkesmerter: årsager, symptomer og behandling. Hvad du selv kan gøre, "
        "og hvornår guldimplantation kan være en mulighed."
    ),
    "meta_description_en": (
        "Chronic neck pain: causes, symptoms and treatment. What you can do yourself, and "
        "when gold implantation may be an option."
    ),
    "introduction_da": (
        "<p>Kroniske nakkesmerter føles ikke ens for alle. Nogle har næsten de samme "
        "smerter hver dag. Men de fleste har både gode og dårlige dage. En periode med "
        "meget ondt kan blive afløst af en periode, hvor det er lettere.</p>"
        "<p>Jo længere smerterne varer, jo sværere er de ofte at slippe af med. Derfor er "
        "det klogt at søge hjælp frem for at vente og håbe på, at det går over.</p>"
        "<p>Her på klinikken behandler vi kroniske nakkesmerter med guldimplantation. Du "
        "bliver lokalbedøvet. Derefter lægger lægen små stykker 24 karat guld ind langs "
        "nakken gennem tynde nåle. Dyrlæger har brugt den samme metode siden 1980 til "
        "hunde med ondt i leddene.</p>"
        "<p>Nedenfor kan du læse, hvad der giver ondt i nakken, hvorfor smerterne kan "
        "blive ved, og hvad du kan gøre ved dem.</p>"
    ),
    "introduction_en": (
        "<p>Chronic neck pain does not feel the same for everyone. Some people have almost "
        "the same pain every day. But most have both good and bad days. A spell of bad "
        "pain may be followed by a spell when things are easier.</p>"
        "<p>The longer the pain lasts, the harder it often is to get rid of. So it is wise "
        "to seek help rather than wait and hope it passes.</p>"
        "<p>At the clinic we treat chronic neck pain with gold implantation. You are given "
        "a local anaesthetic. Then the doctor places small pieces of 24-carat gold along "
        "the neck through thin needles. Vets have used the same method since 1980 for dogs "
        "with painful joints.</p>"
        "<p>Below you can read what causes neck pain, why the pain can last, and what you "
        "can do about it.</p>"
    ),
    "new_phase_text_da": (
        "<p>Der er mange måder at behandle nakkesmerter på. Men det gør en forskel, hvor "
        "længe du har haft ondt. Nogle behandlinger virker bedst på nye smerter. Andre er "
        "bedre, når smerterne har varet mere end 6 måneder.</p>"
        "<p>Ved nye smerter kan fysisk træning, fysioterapi, psykomotorisk behandling og "
        "akupunktur være gode valg. Træning giver det bedste resultat, når en fagperson "
        "følger med. Regn med, at der går nogle uger, før du mærker en virkning.</p>"
        "<p>Disse behandlinger hjælper som regel godt, når smerterne er under 6 måneder "
        "gamle. Har smerterne varet mere end 6-12 måneder, hjælper de ofte kun kort "
        "tid.</p>"
    ),
    "new_phase_text_en": (
        "<p>Neck pain can be treated in many ways. But it matters how long you have been "
        "in pain. Some treatments work best on new pain. Others are better when the pain "
        "has lasted more than 6 months.</p>"
        "<p>For new pain, physical training, physiotherapy, psychomotor therapy and "
        "acupuncture can be good choices. Training gives the best results when a "
        "professional follows your progress. Expect a few weeks to pass before you notice "
        "an effect.</p>"
        "<p>These treatments usually help well when the pain is less than 6 months old. "
        "If the pain has lasted more than 6-12 months, they often help only for a short "
        "time.</p>"
    ),
    "chronic_phase_text_da": (
        "<p>Har du haft ondt i nakken i mere end ½-1 år, bør du tænke på guldimplantation "
        "tidligt. Det gælder, både hvis smerterne er der hele tiden, og hvis de kommer og "
        "går. Det gælder også, hvis smerterne hurtigt kommer igen efter fx akupunktur, "
        "massage, kiropraktik eller træning.</p>"
        "<p>Det er vist, at guldimplantation kan lindre kroniske nakkesmerter i lang tid og "
        "hos nogle for altid. Har du slidgigt i nakken, så overvej guldimplantation, før "
        "du vælger en operation.</p>"
    ),
    "chronic_phase_text_en": (
        "<p>If you have had neck pain for more than six months to a year, think about gold "
        "implantation early. This applies whether the pain is there all the time or comes "
        "and goes. It also applies if the pain soon returns after, for example, "
        "acupuncture, massage, chiropractic or exercise.</p>"
        "<p>Gold implantation has been shown to relieve chronic neck pain for a long time, "
        "and for some people for good. If you have osteoarthritis in your neck, consider "
        "gold implantation before you choose an operation.</p>"
    ),
    "conclusion_da": (
        "<p>Kroniske nakkesmerter kan være svære at blive af med. Det gælder især, når "
        "noget bliver ved med at holde dem i gang. Når smerterne først er blevet kroniske, "
        "hjælper medicin, akupunktur, kiropraktik og fysioterapi desværre ofte kun i en "
        "kort periode.</p>"
        "<p>Derfor anbefaler vi guldimplantation mod kroniske nakkesmerter. Behandlingen "
        "er skånsom. Du bliver lokalbedøvet, og lægen lægger små stykker 24 karat guld ind "
        "i musklerne i nakken. Mange af vores patienter får det meget bedre, og mange "
        "bliver helt fri for smerterne.</p>"
        "<p>Klinikken har behandlet kroniske nakkesmerter med guld siden 1996. Ring til os "
        "på en hverdag, hvis du vil vide mere eller bestille tid.</p>"
    ),
    "conclusion_en": (
        "<p>Chronic neck pain can be hard to get rid of, especially when something keeps "
        "it going. Once the pain has become chronic, medicine, acupuncture, chiropractic "
        "and physiotherapy sadly often help only for a short while.</p>"
        "<p>That is why we recommend gold implantation for chronic neck pain. The "
        "treatment is gentle. You are given a local anaesthetic, and the doctor places "
        "small pieces of 24-carat gold in the muscles of the neck. Many of our patients "
        "feel much better, and many become completely free of pain.</p>"
        "<p>The clinic has treated chronic neck pain with gold since 1996. Call us on a "
        "weekday if you would like to know more or book a time.</p>"
    ),
    "sections": [
        {
            "kind": ConditionSection.Kind.ABOUT,
            "heading_da": "Hvad er kroniske nakkesmerter?",
            "heading_en": "What is chronic neck pain?",
            "body_da": (
                "<p>Vi kalder smerter i nakken kroniske, når de har varet i mindst 6 "
                "måneder. Ordet betyder ikke, at smerterne altid vil være der. De kan stadig "
                "ændre sig, og de kan forsvinde helt.</p>"
                "<p>Smerterne sidder i den øverste del af ryggen. De kan gå op mod hovedet "
                "og ud over skuldrene. Nogle mærker også en utydelig smerte, der stråler ud "
                "i armene. Lægerne kalder det cervicobrachialgi.</p>"
            ),
            "body_en": (
                "<p>We call neck pain chronic when it has lasted for at least 6 months. The "
                "word does not mean the pain will always be there. It can still change, and "
                "it can go away completely.</p>"
                "<p>The pain sits in the upper part of the back. It can reach up towards "
                "the head and out over the shoulders. Some people also feel a vague pain "
                "spreading into the arms. Doctors call this cervicobrachialgia.</p>"
            ),
        },
        {
            "kind": ConditionSection.Kind.PREVALENCE,
            "heading_da": "Hvor mange har ondt i nakken?",
            "heading_en": "How many people have neck pain?",
            "body_da": (
                "<p>Ondt i nakken er en af de smerter, flest mennesker har. Kvinder får "
                "kroniske nakkesmerter lidt oftere end mænd. Jo ældre man bliver, jo mere "
                "almindeligt er det.</p>"
                "<p>Allerede fra omkring 20-årsalderen er det almindeligt at have perioder "
                "med ondt i nakken, der kommer igen.</p>"
            ),
            "body_en": (
                "<p>Neck pain is one of the most common kinds of pain. Women get chronic "
                "neck pain slightly more often than men. The older you get, the more common "
                "it is.</p>"
                "<p>From around the age of 20, it is common to have spells of neck pain "
                "that keep coming back.</p>"
            ),
        },
        {
            "kind": ConditionSection.Kind.CAUSES,
            "heading_da": "Hvad øger risikoen?",
            "heading_en": "What raises the risk?",
            "body_da": (
                "<p>Mange ting kan øge risikoen for at få kroniske nakkesmerter. Her er de "
                "vigtigste:</p>"
            ),
            "body_en": (
                "<p>Many things can raise the risk of chronic neck pain. These are the most "
                "important:</p>"
            ),
        },
        {
            "kind": ConditionSection.Kind.CHRONIC,
            "heading_da": "Hvorfor bliver smerterne ved?",
            "heading_en": "Why does the pain last?",
            "body_da": (
                "<p>Nakken har 7 hvirvler. Mellem hvirvlerne sidder bløde skiver, som tager "
                "imod stød. Der er også mange små led, ledbånd, muskler og sener. Alle disse "
                "dele kan gøre ondt, hvis de bliver skadet eller syge.</p>"
                "<p>Mange har ondt i nakken en gang imellem. Men der er sjældent én enkelt "
                "grund til, at smerterne bliver kroniske. Ofte spiller flere ting sammen. "
                "Det kan være slidgigt i nakken sammen med en dårlig holdning og mange års "
                "belastning, fx ved kontorarbejde eller ensformigt arbejde på en fabrik.</p>"
                "<p>Andre gange kender man ikke årsagen. Smerterne er bare kommet, og det "
                "kan være svært at sige hvornår og hvorfor.</p>"
                "<p>Når smerterne har varet længe, betyder slid på nakken (slidgigt) ofte "
                "mere og mere. Uheld og fald kan også skade nakken, fx som et "
                "piskesmæld.</p>"
                "<p>Smerter, der trækker ud i armen, kan komme efter en skade. De kan også "
                "komme, hvis nakkesmerter ikke bliver behandlet rigtigt. Lægerne kalder dem "
                "henviste smerter.</p>"
            ),
            "body_en": (
                "<p>The neck has 7 vertebrae. Between them sit soft discs that absorb "
                "shocks. There are also many small joints, ligaments, muscles and tendons. "
                "Any of these parts can hurt if they are injured or diseased.</p>"
                "<p>Many people have neck pain now and then. But there is rarely one single "
                "reason why the pain becomes chronic. Often several things work together. "
                "It may be osteoarthritis in the neck combined with poor posture and years "
                "of strain, for example from office work or repetitive factory work.</p>"
                "<p>At other times the cause is unknown. The pain has simply come, and it "
                "can be hard to say when or why.</p>"
                "<p>When the pain has lasted a long time, wear and tear in the neck "
                "(osteoarthritis) often matters more and more. Accidents and falls can also "
                "injure the neck, for example as whiplash.</p>"
                "<p>Pain that spreads into the arm can follow an injury. It can also come "
                "when neck pain is not treated properly. Doctors call this referred "
                "pain.</p>"
            ),
        },
        {
            "kind": ConditionSection.Kind.DIAGNOSIS,
            "heading_da": "Hvordan stiller lægen diagnosen?",
            "heading_en": "How does the doctor make the diagnosis?",
            "body_da": (
                "<p>Har du haft ondt i nakke og skuldre i mere end 6 måneder, kalder vi "
                "smerterne kroniske. Det kan være svært at finde ud af, hvad de skyldes.</p>"
                "<p>Hos de fleste kan lægen ikke give smerterne en bestemt diagnose. Når det "
                "lykkes, er det lægens undersøgelse, der viser vejen. Den bygger på:</p>"
            ),
            "body_en": (
                "<p>If you have had pain in the neck and shoulders for more than 6 months, "
                "we call the pain chronic. It can be hard to find out what causes it.</p>"
                "<p>For most people, the doctor cannot give the pain a specific diagnosis. "
                "When it is possible, the doctor's examination shows the way. It is based "
                "on:</p>"
            ),
        },
        {
            "kind": ConditionSection.Kind.SYMPTOMS,
            "heading_da": "Symptomer ved kroniske nakkesmerter",
            "heading_en": "Symptoms of chronic neck pain",
            "body_da": "<p>Kroniske nakkesmerter viser sig ofte på disse måder:</p>",
            "body_en": "<p>Chronic neck pain often shows itself in these ways:</p>",
        },
        {
            "kind": ConditionSection.Kind.PROGNOSIS,
            "heading_da": "Hvordan går det uden behandling?",
            "heading_en": "What happens without treatment?",
            "body_da": (
                "<p>Når smerterne bliver kroniske, er det ofte, fordi noget holder dem i "
                "gang. Det kan være slidgigt, en gammel skade på nakken, et piskesmæld eller "
                "svære forhold i livet, fx på arbejdet eller derhjemme.</p>"
                "<p>Et piskesmæld gør udsigterne dårligere. Op til 40 % har stadig gener 15 "
                "år efter ulykken.</p>"
                "<p>Kommer smerterne af hårdt fysisk arbejde, udvikler de sig langsomt. I "
                "løbet af nogle år bliver de værre, så længe belastningen fortsætter.</p>"
                "<p>Omkring 1 ud af 10 med nye nakkesmerter får kroniske smerter. Hos 5 % "
                "bliver evnen til at arbejde meget nedsat.</p>"
                "<p>For nogle er smerterne kun en mild gene. For andre fylder de meget i "
                "hverdagen i lang tid. Man må måske holde op med nogle ting eller kan ikke "
                "passe sit arbejde som før. Mange bliver også påvirket i humøret. De kan "
                "føle sig triste, usikre på fremtiden eller lettere irritable.</p>"
            ),
            "body_en": (
                "<p>When pain becomes chronic, it is often because something keeps it "
                "going. This may be osteoarthritis, an old neck injury, whiplash or hard "
                "circumstances in life, for example at work or at home.</p>"
                "<p>Whiplash makes the outlook worse. Up to 40% still have symptoms 15 "
                "years after the accident.</p>"
                "<p>When the pain comes from hard physical work, it develops slowly. Over "
                "some years it gets worse, as long as the strain goes on.</p>"
                "<p>About 1 in 10 people with new neck pain go on to have chronic pain. For "
                "5%, the ability to work is much reduced.</p>"
                "<p>For some, the pain is only a mild nuisance. For others, it takes up a "
                "lot of daily life for a long time. You may have to give up some things or "
                "be unable to do your job as before. Many also find that their mood "
                "suffers. They may feel low, unsure about the future or easily "
                "irritated.</p>"
            ),
        },
        {
            "kind": ConditionSection.Kind.SELF_HELP,
            "heading_da": "Hvad kan du selv gøre?",
            "heading_en": "What can you do yourself?",
            "body_da": (
                "<p>Vores læge giver disse fem råd:</p>"
                "<ul>"
                "<li><strong>Hold dig i gang.</strong> Bevæg nakken roligt i 5-15 minutter "
                "hver dag. En fysioterapeut kan vise dig øvelserne. Øvelserne må ikke gøre "
                "ondt. Tag evt. smertestillende medicin, så smerterne holdes nede.</li>"
                "<li><strong>Se på din hverdag.</strong> Sidder eller står du i samme "
                "stilling i lang tid? Hold små pauser, og brug dem gerne til nakkeøvelser. "
                "Tænk også over, om noget andet i dit liv får dig til at spænde op, og om du "
                "kan ændre på det.</li>"
                "<li><strong>Undgå sygemelding, hvis du kan.</strong> Må du melde dig syg, "
                "så hold kontakt med din arbejdsplads. Arbejd så meget, som du kan "
                "klare.</li>"
                "<li><strong>Kom hurtigt tilbage på arbejde.</strong> Begynd igen så snart "
                "som muligt, også selvom du kun kan klare lidt. Det hjælper dig til at få "
                "det bedre. Tal tidligt om muligheder som aktiv sygemelding eller "
                "omskoling.</li>"
                "<li><strong>Prøv guldimplantation.</strong> Det er en mulighed, hvis "
                "smerterne har varet mere end ½-1 år, eller hvis anden behandling ikke "
                "hjælper nok. Det er vist, at guldimplantation kan lindre kroniske "
                "nakkesmerter på lang sigt.</li>"
                "</ul>"
            ),
            "body_en": (
                "<p>Our doctor gives these five pieces of advice:</p>"
                "<ul>"
                "<li><strong>Keep moving.</strong> Move your neck gently for 5-15 minutes "
                "every day. A physiotherapist can show you the exercises. The exercises "
                "must not hurt. If needed, take pain medication to keep the pain down.</li>"
                "<li><strong>Look at your daily routine.</strong> Do you sit or stand in "
                "the same position for a long time? Take short breaks, and use them for "
                "neck exercises. Also think about whether something else in your life makes "
                "you tense up, and whether you can change it.</li>"
                "<li><strong>Avoid sick leave if you can.</strong> If you have to call in "
                "sick, stay in touch with your workplace. Work as much as you can "
                "manage.</li>"
                "<li><strong>Get back to work quickly.</strong> Start again as soon as "
                "possible, even if you can only manage a little. It helps you get better. "
                "Talk early about options such as part-time sick leave or retraining.</li>"
                "<li><strong>Try gold implantation.</strong> It is an option if the pain "
                "has lasted more than six months to a year, or if other treatment does not "
                "help enough. Gold implantation has been shown to relieve chronic neck pain "
                "in the long term.</li>"
                "</ul>"
            ),
        },
    ],
    "figures": [
        {
            "value_da": "13 %",
            "value_en": "13%",
            "label_da": "af befolkningen har ondt i nakken på et givet tidspunkt",
            "label_en": "of the population have neck pain at any given time",
        },
        {
            "value_da": "50 %",
            "value_en": "50%",
            "label_da": "får ondt i nakken mindst én gang i løbet af livet",
            "label_en": "have neck pain at least once in their life",
        },
        {
            "value_da": "Op til 40 %",
            "value_en": "Up to 40%",
            "label_da": "af dem, der har fået et piskesmæld, har stadig gener 15 år efter",
            "label_en": "of people with whiplash still have symptoms 15 years later",
        },
        {
            "value_da": "1 af 10",
            "value_en": "1 in 10",
            "label_da": "med nye nakkesmerter får kroniske smerter",
            "label_en": "people with new neck pain go on to have chronic pain",
        },
        {
            "value_da": "5 %",
            "value_en": "5%",
            "label_da": "af dem med nye nakkesmerter får meget nedsat evne til at arbejde",
            "label_en": "of people with new neck pain lose much of their ability to work",
        },
    ],
    "risk_factors": [
        ("Psykisk belastning", "Psychological strain"),
        ("Stress", "Stress"),
        (
            "Et uheld, hvor nakken har fået et slag eller et ryk, fx et piskesmæld",
            "An accident that jolted or struck the neck, such as whiplash",
        ),
        (
            "Tidligere perioder med ondt i nakke og skuldre",
            "Earlier spells of pain in the neck and shoulders",
        ),
        ("Dårlig holdning", "Poor posture"),
        (
            "Mange års arbejde med hurtige, gentagne bevægelser af skulder og overarm. Især "
            "hvis du samtidig bøjer nakken eller holder nakke og skuldre stille længe",
            "Years of work with fast, repeated movements of the shoulder and upper arm. "
            "Especially if you also bend your neck or keep your neck and shoulders still "
            "for long",
        ),
        (
            "Arbejde, hvor nakke og skuldre holdes bøjet i næsten samme stilling i lang tid "
            "ad gangen, fx meget arbejde ved en computer",
            "Work where the neck and shoulders are held bent in nearly the same position "
            "for long stretches, such as a lot of computer work",
        ),
        (
            "Arbejde med kraftige bevægelser af skulder og overarm, hvor du skubber, "
            "trækker eller løfter meget, fx udbening på et slagteri",
            "Work with forceful shoulder and upper-arm movements, with a lot of pushing, "
            "pulling or lifting, such as deboning meat at a slaughterhouse",
        ),
    ],
    "diagnosis_steps": [
        (
            "Din sygehistorie: hvad du fortæller lægen om dine smerter",
            "Your medical history: what you tell the doctor about your pain",
        ),
        ("Hvor i nakken smerterne sidder", "Where in the neck the pain is"),
        (
            "En undersøgelse af, hvor godt nakken kan bevæge sig, og om musklerne er ømme",
            "An examination of how well your neck moves and whether the muscles are tender",
        ),
        (
            "Måske billeder af nakken: røntgen, CT- eller MR-scanning. De kan fx vise "
            "slidgigt eller en forsnævring af rygmarvskanalen",
            "Perhaps images of the neck: an X-ray, CT or MRI scan. They can show, for "
            "example, osteoarthritis or a narrowing of the spinal canal",
        ),
    ],
    "symptoms": [
        (
            "Jævne smerter i nakke og skuldre, som regel i begge sider",
            "A spread-out ache in the neck and shoulders, usually on both sides",
        ),
        (
            "Smerterne bliver værre, når du bruger eller bevæger nakken, og bedre, når du hviler",
            "The pain gets worse when you use or move your neck, and better when you rest",
        ),
        (
            "Et eller flere af nakkens led kan ikke bevæge sig så frit som før",
            "One or more joints in the neck do not move as freely as before",
        ),
        (
            "Hovedpine, der går fra nakken op over hovedet til tindingen og panden "
            "(spændingshovedpine)",
            "Headache that spreads from the neck over the head to the temples and forehead "
            "(tension headache)",
        ),
        (
            "Trætte arme, der snurrer eller prikker (henviste smerter)",
            "Tired arms with tingling or pins and needles (referred pain)",
        ),
        (
            "Træthed, svært ved at koncentrere sig, svimmelhed eller susen for ørerne",
            "Tiredness, trouble concentrating, dizziness or ringing in the ears",
        ),
    ],
    "recommendations": [
        (ACUPUNCTURE, "new", "", ""),
        (NERVE_BLOCK, "new", "", ""),
        (CHIROPRACTIC, "new", "", ""),
        (MASSAGE, "new", "", ""),
        (COLD_HEAT, "new", "", ""),
        (
            MEDICATION,
            "new",
            "især paracetamol og NSAID-præparater",
            "especially paracetamol and NSAIDs",
        ),
        (
            EXERCISE,
            "new",
            "styrke, stræk og bevægelighed",
            "strength, stretching and mobility",
        ),
        (GOLD, "chronic", "", ""),
        (
            MEDICATION,
            "chronic",
            "især paracetamol, svage morfinlignende midler samt visse midler mod depression "
            "og epilepsi",
            "especially paracetamol, weak opioids and certain antidepressants and anti-epileptics",
        ),
        (
            EXERCISE,
            "chronic",
            "styrke, stræk og bevægelighed",
            "strength, stretching and mobility",
        ),
    ],
}

LOW_BACK_PAIN_CONDITION = {
    "slug_da": LOW_BACK_PAIN,
    "slug_en": "low-back-pain",
    "name_da": "Kroniske lændesmerter",
    "name_en": "Chronic low back pain",
    "order": 2,
    "summary_da": (
        "Ondt i lænden i mere end et halvt år. Læs kort om smerterne, og om hvad der kan hjælpe."
    ),
    "summary_en": (
        "Pain in the lower back for more than six months. Read in brief about the pain and "
        "what can help."
    ),
    "meta_description_da": (
        "Kroniske lændesmerter: hvad det er, hvor mange der har ondt i ryggen, symptomer og "
        "behandling."
    ),
    "meta_description_en": (
        "Chronic low back pain: what it is, how many people have back pain, symptoms and treatment."
    ),
    "introduction_da": (
        "<p>De fleste får ondt i ryggen på et tidspunkt i livet. For mange går det over af "
        "sig selv. For andre kommer smerterne igen, eller de bliver ved i måneder og "
        "år.</p>"
        "<p>Her på klinikken behandler vi kroniske lændesmerter med guldimplantation. Gå "
        "altid til din egen læge først, så du får en undersøgelse og et godt råd om, hvad "
        "der passer til dig.</p>"
    ),
    "introduction_en": (
        "<p>Most people get back pain at some point in their life. For many, it passes by "
        "itself. For others, the pain comes back or goes on for months and years.</p>"
        "<p>At the clinic we treat chronic low back pain with gold implantation. Always see "
        "your own doctor first, so you are examined and get good advice on what suits "
        "you.</p>"
    ),
    "chronic_phase_text_da": (
        "<p>Når smerterne har varet længe, er det sjældent, at de forsvinder af sig selv. "
        "Ofte skal der flere ting til, fx træning, medicin og ændringer i hverdagen. Har "
        "anden behandling ikke hjulpet nok, kan guldimplantation være en mulighed.</p>"
    ),
    "chronic_phase_text_en": (
        "<p>When the pain has lasted a long time, it rarely goes away by itself. Often "
        "several things are needed, such as exercise, medicine and changes in daily life. "
        "If other treatment has not helped enough, gold implantation may be an option.</p>"
    ),
    "sections": [
        {
            "kind": ConditionSection.Kind.ABOUT,
            "heading_da": "Hvad er kroniske lændesmerter?",
            "heading_en": "What is chronic low back pain?",
            "body_da": (
                "<p>Har du haft ondt nederst i ryggen i mere end 6 måneder, kalder man ofte "
                "smerterne kroniske. Smerterne kan skifte i styrke, så der er både gode og "
                "dårlige perioder.</p>"
                "<p>Grænsen på 6 måneder bruger fagfolk mest, når de skal vælge en "
                "behandling. Får du ondt et nyt sted, eller bliver smerterne værre, så "
                "kontakt altid din læge.</p>"
            ),
            "body_en": (
                "<p>If you have had pain in your lower back for more than 6 months, the "
                "pain is often called chronic. It can change in strength, so there are both "
                "good and bad spells.</p>"
                "<p>Professionals mostly use the 6-month limit when choosing a treatment. If "
                "you get pain in a new place, or the pain gets worse, always contact your "
                "doctor.</p>"
            ),
        },
        {
            "kind": ConditionSection.Kind.PREVALENCE,
            "heading_da": "Hvor mange har ondt i ryggen?",
            "heading_en": "How many people have back pain?",
            "body_da": (
                "<p>Rygsmerter er meget almindelige. I en rapport fra Sundhedsstyrelsen fra "
                "2022 svarer omkring 1,7 millioner danskere, at de har ondt i ryggen.</p>"
            ),
            "body_en": (
                "<p>Back pain is very common. In a 2022 report from the Danish Health "
                "Authority, about 1.7 million Danes say they have back pain.</p>"
            ),
        },
        {
            "kind": ConditionSection.Kind.SYMPTOMS,
            "heading_da": "Symptomer",
            "heading_en": "Symptoms",
            "body_da": "<p>Disse tegn er almindelige:</p>",
            "body_en": "<p>These signs are common:</p>",
        },
    ],
    "figures": [
        {
            "value_da": "1,7 mio.",
            "value_en": "1.7 million",
            "label_da": "danskere siger, at de har ondt i ryggen",
            "label_en": "Danes say they have back pain",
            "source": BURDEN_OF_DISEASE,
        },
    ],
    "symptoms": [
        (
            "Smerter nederst i ryggen, der kan skifte i styrke fra dag til dag",
            "Pain low in the back that can change in strength from day to day",
        ),
        (
            "Smerter, der bliver værre ved bestemte bevægelser",
            "Pain that gets worse with certain movements",
        ),
        (
            "Smerter, der stråler fra ryggen ned i benet",
            "Pain that spreads from the back down into the leg",
        ),
        (
            "Prikken eller nedsat følelse i benet, hvis en nerve er i klemme",
            "Tingling or numbness in the leg if a nerve is pinched",
        ),
    ],
    "recommendations": [
        (GOLD, "chronic", "", ""),
        (
            EXERCISE,
            "chronic",
            "styrke, stræk og bevægelighed",
            "strength, stretching and mobility",
        ),
        (MEDICATION, "chronic", "efter aftale med din læge", "as agreed with your doctor"),
    ],
}

CONDITIONS = [NECK_PAIN_CONDITION, LOW_BACK_PAIN_CONDITION]

NECK_TOPIC = "Nakkesmerter og behandling"
BACK_TOPIC = "Rygsmerter"
CHRONIC_TOPIC = "Kroniske smerter"

FAQ_TOPICS = [
    {"name_da": NECK_TOPIC, "name_en": "Neck pain and treatment", "order": 1},
    {"name_da": BACK_TOPIC, "name_en": "Back pain", "order": 2},
    {"name_da": CHRONIC_TOPIC, "name_en": "Chronic pain", "order": 3},
]

FAQS = [
    {
        "topic": NECK_TOPIC,
        "conditions": [NECK_PAIN],
        "treatments": [GOLD],
        "question_da": "Hvornår bør jeg overveje guldimplantation?",
        "question_en": "When should I consider gold implantation?",
        "answer_da": (
            "<p>Overvej guldimplantation, hvis du har haft ondt i nakken i mere end ½-1 år. "
            "Det gælder, uanset om smerterne er der hele tiden, eller om de kommer og "
            "går.</p>"
            "<p>Det er også en mulighed, hvis smerterne hurtigt kommer igen efter anden "
            "behandling, fx akupunktur, massage, kiropraktik eller træning. Har du slidgigt "
            "i nakken, så tænk på guldimplantation, før du vælger en operation.</p>"
        ),
        "answer_en": (
            "<p>Consider gold implantation if you have had neck pain for more than six "
            "months to a year. This applies whether the pain is there all the time or comes "
            "and goes.</p>"
            "<p>It is also an option if the pain soon returns after other treatment, such as "
            "acupuncture, massage, chiropractic or exercise. If you have osteoarthritis in "
            "your neck, think about gold implantation before choosing an operation.</p>"
        ),
    },
    {
        "topic": NECK_TOPIC,
        "conditions": [NECK_PAIN],
        "treatments": [GOLD],
        "question_da": "Kan jeg bruge en gammel scanning?",
        "question_en": "Can I use an old scan?",
        "answer_da": (
            "<p>Ofte ja. Før behandlingen skal lægen se et røntgenbillede eller en scanning "
            "af det sted, der gør ondt. Er dine billeder under 2 år gamle, kan de ofte "
            "bruges.</p>"
            "<p>Bed den røntgenafdeling, der tog billederne, om at sende dem til dig. Det "
            "har de pligt til. Send dem derefter til os i god tid før din tid.</p>"
        ),
        "answer_en": (
            "<p>Often, yes. Before the treatment, the doctor needs to see an X-ray or a "
            "scan of the painful area. If your images are less than 2 years old, they can "
            "often be used.</p>"
            "<p>Ask the X-ray department that took the images to send them to you. They are "
            "obliged to do so. Then send them to us well before your appointment.</p>"
        ),
    },
    {
        "topic": NECK_TOPIC,
        "conditions": [NECK_PAIN],
        "treatments": [GOLD],
        "question_da": "Må jeg køre bil efter guldimplantation?",
        "question_en": "Can I drive after gold implantation?",
        "answer_da": (
            "<p>Ikke de første timer. Lokalbedøvelsen kan gøre dig sløv. Tag derfor gerne "
            "en pårørende med, som kan køre dig hjem.</p>"
        ),
        "answer_en": (
            "<p>Not for the first few hours. The local anaesthetic can make you drowsy. So "
            "it is a good idea to bring a relative or friend who can drive you home.</p>"
        ),
    },
    {
        "topic": BACK_TOPIC,
        "conditions": [LOW_BACK_PAIN],
        "treatments": [MEDICATION, CHIROPRACTIC, EXERCISE],
        "sources": [BURDEN_OF_DISEASE],
        "question_da": "Hvordan behandles kroniske rygsmerter?",
        "question_en": "How is chronic back pain treated?",
        "answer_da": (
            "<p>Behandlingen består ofte af flere dele:</p>"
            "<ul>"
            "<li>Smertestillende medicin som paracetamol og gigtmedicin (NSAID).</li>"
            "<li>At holde sig fysisk aktiv.</li>"
            "<li>Manipulation, hvor en behandler løsner led og muskler med hænderne. Det "
            "gør især kiropraktorer, men også fysioterapeuter, osteopater og læger.</li>"
            "</ul>"
            "<p>Gå først til din egen læge. Hvilken behandling der passer til dig, skal en "
            "fagperson vurdere.</p>"
            "<p>Rygsmerter er meget udbredte. I Sundhedsstyrelsens rapport <em>Sygdomsbyrden "
            "i Danmark</em> fra 2022 svarer 1,7 millioner danskere, at de har ondt i "
            "ryggen.</p>"
        ),
        "answer_en": (
            "<p>Treatment often has several parts:</p>"
            "<ul>"
            "<li>Pain medication such as paracetamol and anti-inflammatory painkillers "
            "(NSAIDs).</li>"
            "<li>Staying physically active.</li>"
            "<li>Manipulation, where a therapist loosens joints and muscles by hand. This is "
            "mostly done by chiropractors, but also by physiotherapists, osteopaths and "
            "doctors.</li>"
            "</ul>"
            "<p>See your own doctor first. Which treatment suits you should be judged by a "
            "professional.</p>"
            "<p>Back pain is very widespread. In the Danish Health Authority's report "
            "<em>The burden of disease in Denmark</em> from 2022, 1.7 million Danes say they "
            "have back pain.</p>"
        ),
    },
    {
        "topic": BACK_TOPIC,
        "conditions": [LOW_BACK_PAIN],
        "treatments": [EXERCISE, MASSAGE, COLD_HEAT],
        "question_da": "Hvad kan jeg selv gøre ved rygsmerter?",
        "question_en": "What can I do myself about back pain?",
        "answer_da": (
            "<ul>"
            "<li><strong>Bevæg dig hver dag.</strong> Gå ture, svøm, eller lav øvelser for "
            "ryggen. Det gør ryggen stærkere og mere smidig.</li>"
            "<li><strong>Få hjælp af en fysioterapeut.</strong> Fysioterapeuten kan lave et "
            "program til dig og vise dig gode stillinger.</li>"
            "<li><strong>Tag medicin efter aftale med lægen.</strong> Smertestillende og "
            "betændelsesdæmpende medicin kan hjælpe.</li>"
            "<li><strong>Find ro.</strong> Meditation og dybe, rolige vejrtrækninger kan "
            "dæmpe stress, som gør smerterne værre.</li>"
            "<li><strong>Brug varme eller kulde.</strong> En varmepude eller en ispose kan "
            "lindre for en tid.</li>"
            "<li><strong>Få massage.</strong> Massage kan løsne spændte muskler.</li>"
            "<li><strong>Se på dine stillinger.</strong> Små ændringer derhjemme og på "
            "arbejdet kan skåne ryggen.</li>"
            "</ul>"
        ),
        "answer_en": (
            "<ul>"
            "<li><strong>Move every day.</strong> Go for walks, swim, or do back exercises. "
            "This makes your back stronger and more supple.</li>"
            "<li><strong>Get help from a physiotherapist.</strong> The physiotherapist can "
            "make a programme for you and show you good positions.</li>"
            "<li><strong>Take medicine as agreed with your doctor.</strong> Painkillers and "
            "anti-inflammatory medicine can help.</li>"
            "<li><strong>Find calm.</strong> Meditation and deep, slow breathing can ease "
            "stress, which makes pain worse.</li>"
            "<li><strong>Use heat or cold.</strong> A heat pad or an ice pack can bring "
            "relief for a while.</li>"
            "<li><strong>Have a massage.</strong> Massage can loosen tense muscles.</li>"
            "<li><strong>Look at how you sit and work.</strong> Small changes at home and at "
            "work can spare your back.</li>"
            "</ul>"
        ),
    },
    {
        "topic": BACK_TOPIC,
        "conditions": [LOW_BACK_PAIN],
        "treatments": [COLD_HEAT],
        "question_da": "Hjælper varme på rygsmerter?",
        "question_en": "Does heat help back pain?",
        "answer_da": (
            "<p>Ja, varme kan lindre. Varmen får musklerne til at slappe af og giver bedre "
            "blodomløb.</p>"
            "<p>Brug en varmepude, eller tag et varmt bad i højst 20 minutter. Det giver "
            "lindring for en tid. Pas på, at det ikke bliver for varmt. Har du andre "
            "sygdomme, så spørg din læge først.</p>"
        ),
        "answer_en": (
            "<p>Yes, heat can bring relief. It helps the muscles relax and improves blood "
            "flow.</p>"
            "<p>Use a heat pad, or take a warm bath for up to 20 minutes. This gives relief "
            "for a while. Take care that it is not too hot. If you have other illnesses, ask "
            "your doctor first.</p>"
        ),
    },
    {
        "topic": BACK_TOPIC,
        "conditions": [LOW_BACK_PAIN],
        "treatments": [EXERCISE],
        "question_da": "Hjælper træning mod kroniske rygsmerter?",
        "question_en": "Does exercise help chronic back pain?",
        "answer_da": (
            "<p>Ja, træning kan være en god del af behandlingen. Jævn motion, der ikke er "
            "for hård, gør rygmusklerne stærkere. Du får en bedre holdning, bliver mere "
            "smidig og får bedre blodomløb. Det kan give mindre ondt.</p>"
            "<p>Øvelserne skal passe til dig og dine smerter. Få gerne en fysioterapeut "
            "eller en anden fagperson til at lægge et sikkert program.</p>"
            "<p>Træning kan ikke altid fjerne smerterne helt. Men den kan ofte mindske dem "
            "og give dig et bedre liv.</p>"
        ),
        "answer_en": (
            "<p>Yes, exercise can be a good part of the treatment. Regular exercise that is "
            "not too hard makes the back muscles stronger. It improves posture, makes you "
            "more supple and improves blood flow. This can mean less pain.</p>"
            "<p>The exercises must suit you and your pain. Ask a physiotherapist or another "
            "professional to plan a safe programme.</p>"
            "<p>Exercise cannot always remove the pain completely. But it can often reduce "
            "it and give you a better life.</p>"
        ),
    },
    {
        "topic": BACK_TOPIC,
        "conditions": [LOW_BACK_PAIN],
        "question_da": "Kan stress give kroniske rygsmerter?",
        "question_en": "Can stress cause chronic back pain?",
        "answer_da": (
            "<p>Ja. Stress kan give rygsmerter eller gøre dem værre. Når du er stresset, "
            "spænder musklerne ofte op, især i ryggen. Det kan give ondt eller forværre de "
            "problemer, du allerede har.</p>"
            "<p>Stress, der varer længe, kan også ændre, hvordan kroppen mærker smerte. Man "
            "kan blive mere følsom, så smerterne føles stærkere.</p>"
        ),
        "answer_en": (
            "<p>Yes. Stress can cause back pain or make it worse. When you are stressed, the "
            "muscles often tense up, especially in the back. This can cause pain or worsen "
            "problems you already have.</p>"
            "<p>Long-lasting stress can also change how the body senses pain. You can become "
            "more sensitive, so the pain feels stronger.</p>"
        ),
    },
    {
        "topic": BACK_TOPIC,
        "conditions": [LOW_BACK_PAIN],
        "question_da": "Hvad er symptomerne på et sammenfald i ryggen?",
        "question_en": "What are the symptoms of a collapsed vertebra?",
        "answer_da": (
            "<p>Ved et sammenfald er en af ryghvirvlerne klappet sammen eller brækket. "
            "Symptomerne afhænger af, hvor meget og hvor i ryggen det er sket. Typiske tegn "
            "er:</p>"
            "<ul>"
            "<li><strong>Pludselige smerter i ryggen.</strong> De kan være skarpe og "
            "stærke, især lige efter sammenfaldet.</li>"
            "<li><strong>Du bliver lavere.</strong> Med tiden kan du miste noget af din "
            "højde.</li>"
            "<li><strong>Krum ryg.</strong> Har flere hvirvler givet efter, kan ryggen bøje "
            "fremover. Nogle kalder det en enkepukkel.</li>"
            "<li><strong>Svært ved at bevæge dig.</strong> Smerterne og skaden kan gøre det "
            "svært at bevæge sig som normalt.</li>"
            "<li><strong>Smerter, der bliver ved.</strong> Også når de første stærke "
            "smerter er ovre, kan der være en dump smerte, som ikke går væk.</li>"
            "</ul>"
            "<p>Søg læge, hvis du har disse symptomer. Et sammenfald kan påvirke rygmarven "
            "og andre vigtige funktioner i kroppen.</p>"
        ),
        "answer_en": (
            "<p>In a collapse, one of the vertebrae has been squashed or broken. The "
            "symptoms depend on how much and where in the back it has happened. Typical "
            "signs are:</p>"
            "<ul>"
            "<li><strong>Sudden back pain.</strong> It can be sharp and strong, especially "
            "just after the collapse.</li>"
            "<li><strong>You get shorter.</strong> Over time you may lose some of your "
            "height.</li>"
            "<li><strong>A curved back.</strong> If several vertebrae have given way, the "
            "back can bend forwards. Some call this a dowager's hump.</li>"
            "<li><strong>Trouble moving.</strong> The pain and the injury can make it hard "
            "to move as usual.</li>"
            "<li><strong>Pain that lingers.</strong> Even after the first strong pain has "
            "passed, a dull pain may stay.</li>"
            "</ul>"
            "<p>See a doctor if you have these symptoms. A collapse can affect the spinal "
            "cord and other important functions of the body.</p>"
        ),
    },
    {
        "topic": BACK_TOPIC,
        "conditions": [LOW_BACK_PAIN],
        "question_da": "Hvorfor kan rygsmerter være farlige?",
        "question_en": "Why can back pain be dangerous?",
        "answer_da": (
            "<p>Oftest er rygsmerter ikke farlige. Men de kan være tegn på en alvorlig "
            "tilstand, fx en diskusprolaps, en infektion eller et brud på en "
            "ryghvirvel.</p>"
            "<p>Bliver smerterne ikke behandlet, kan de blive kroniske. Du kan få sværere "
            "ved at bevæge dig, og det kan gå ud over din livskvalitet. Gå derfor til "
            "lægen, så årsagen kan findes og behandles.</p>"
        ),
        "answer_en": (
            "<p>Most often, back pain is not dangerous. But it can be a sign of a serious "
            "condition, such as a slipped disc, an infection or a broken vertebra.</p>"
            "<p>If the pain is not treated, it can become chronic. You may find it harder to "
            "move, and your quality of life can suffer. So see your doctor, so the cause can "
            "be found and treated.</p>"
        ),
    },
    {
        "topic": BACK_TOPIC,
        "conditions": [LOW_BACK_PAIN, NECK_PAIN],
        "question_da": "Hvordan føles en nerve i klemme?",
        "question_en": "What does a pinched nerve feel like?",
        "answer_da": (
            "<p>Det er forskelligt fra person til person. Disse tegn er almindelige:</p>"
            "<ul>"
            "<li><strong>Smerter</strong>, der ofte er skarpe, stikkende eller brændende. "
            "De kan blive værre ved bestemte bevægelser.</li>"
            "<li><strong>Prikken eller manglende følelse</strong> i det område, nerven går "
            "til. Mange kalder det myrekryb.</li>"
            "<li><strong>Svage muskler</strong>, der hurtigt bliver trætte.</li>"
            "<li><strong>Smerter, der stråler ud</strong> fra ryggen ned i benet eller fra "
            "nakken ud i armen. Det afhænger af, hvilken nerve der er i klemme.</li>"
            "</ul>"
            "<p>Gå til lægen, hvis du har disse symptomer. En nerve i klemme kan have brug "
            "for behandling, så den ikke tager varig skade.</p>"
        ),
        "answer_en": (
            "<p>It differs from person to person. These signs are common:</p>"
            "<ul>"
            "<li><strong>Pain</strong> that is often sharp, stabbing or burning. It can get "
            "worse with certain movements.</li>"
            "<li><strong>Tingling or numbness</strong> in the area the nerve supplies. Many "
            "call it pins and needles.</li>"
            "<li><strong>Weak muscles</strong> that tire quickly.</li>"
            "<li><strong>Pain that spreads</strong> from the back down into the leg, or from "
            "the neck out into the arm. It depends on which nerve is pinched.</li>"
            "</ul>"
            "<p>See a doctor if you have these symptoms. A pinched nerve may need treatment "
            "so that it is not damaged for good.</p>"
        ),
    },
    {
        "topic": CHRONIC_TOPIC,
        "conditions": [LOW_BACK_PAIN, NECK_PAIN],
        "question_da": "Hvornår er smerter kroniske?",
        "question_en": "When is pain called chronic?",
        "answer_da": (
            "<p>De fleste har ondt i ryggen eller nakken en gang imellem. Hos nogle kommer "
            "smerterne igen, eller de skifter i styrke. Har smerterne varet mere end 6 "
            "måneder, kalder man dem ofte kroniske.</p>"
            "<p>Den grænse bruger fagfolk mest, når de skal vælge en behandling. Får du ondt "
            "et nyt sted, eller bliver smerterne værre, så kontakt altid din læge.</p>"
        ),
        "answer_en": (
            "<p>Most people have back or neck pain now and then. For some, the pain comes "
            "back or changes in strength. If the pain has lasted more than 6 months, it is often "
            "called chronic.</p>"
            "<p>Professionals mostly use this limit when choosing a treatment. If you get "
            "pain in a new place, or the pain gets worse, always contact your doctor.</p>"
        ),
    },
    {
        "topic": CHRONIC_TOPIC,
        "conditions": [LOW_BACK_PAIN, NECK_PAIN],
        "question_da": "Hvor mange har komplekse kroniske smerter?",
        "question_en": "How many people have complex chronic pain?",
        "answer_da": (
            "<p>I den vestlige verden har omkring 5-8 % af alle voksne komplekse kroniske "
            "smerter.</p>"
            "<p>Smerterne kaldes komplekse, når de i de seneste 3 måneder har haft store "
            "følger for arbejdet eller hverdagen. Det skal gælde de fleste dage eller hver "
            "dag.</p>"
        ),
        "answer_en": (
            "<p>In the Western world, about 5-8% of all adults have complex chronic "
            "pain.</p>"
            "<p>The pain is called complex when, over the last 3 months, it has had serious "
            "effects on work or daily life. This must be true on most days or every "
            "day.</p>"
        ),
    },
    {
        "topic": CHRONIC_TOPIC,
        "conditions": [LOW_BACK_PAIN, NECK_PAIN],
        "question_da": "Går smerter, der har varet over 12 uger, over af sig selv?",
        "question_en": "Will pain that has lasted over 12 weeks go away by itself?",
        "answer_da": (
            "<p>Som regel ikke. Smerter, der har varet mere end 12 uger, forsvinder sjældent af "
            "sig selv.</p>"
            "<p>Ofte skal der flere ting til: medicin, fysioterapi og ændringer i "
            "hverdagen. Tal med din læge eller en anden fagperson, så I sammen kan lægge en "
            "plan.</p>"
        ),
        "answer_en": (
            "<p>Usually not. Pain that has lasted more than 12 weeks seldom goes away by "
            "itself.</p>"
            "<p>Often several things are needed: medicine, physiotherapy and changes in daily "
            "life. Talk to your doctor or another professional so you can make a plan "
            "together.</p>"
        ),
    },
    {
        "topic": CHRONIC_TOPIC,
        "conditions": [LOW_BACK_PAIN],
        "treatments": [MEDICATION, GOLD],
        "question_da": "Hvad er kroniske nervesmerter?",
        "question_en": "What is chronic nerve pain?",
        "answer_da": (
            "<p>Kroniske nervesmerter kaldes også neuropatiske smerter. De opstår, når "
            "nerverne ikke virker, som de skal, fordi de er skadet eller syge. Det kan fx "
            "skyldes sukkersyge (diabetes), en skade, en infektion eller andre "
            "sygdomme.</p>"
            "<p>Almindelige smerter er et varsel om, at noget i kroppen er skadet. "
            "Nervesmerter kan komme uden en tydelig grund. De kan føles brændende, stikkende "
            "eller som elektriske stød.</p>"
            "<p>Nervesmerter er ofte svære at behandle. Behandlingen kan bestå af medicin, "
            "fysisk behandling og i nogle tilfælde guldimplantation.</p>"
        ),
        "answer_en": (
            "<p>Chronic nerve pain is also called neuropathic pain. It happens when the "
            "nerves do not work as they should because they are damaged or diseased. The "
            "cause can be diabetes, an injury, an infection or other illnesses.</p>"
            "<p>Ordinary pain is a warning that something in the body is harmed. Nerve pain "
            "can come without a clear reason. It can feel burning, stabbing or like electric "
            "shocks.</p>"
            "<p>Nerve pain is often hard to treat. Treatment may include medicine, physical "
            "therapy and, in some cases, gold implantation.</p>"
        ),
    },
    {
        "topic": CHRONIC_TOPIC,
        "conditions": [LOW_BACK_PAIN, NECK_PAIN],
        "question_da": "Er kroniske smerter arvelige?",
        "question_en": "Is chronic pain hereditary?",
        "answer_da": (
            "<p>Til dels. Har andre i din familie haft kroniske smerter, kan din risiko være "
            "større. Men generne er kun en del af forklaringen. Dine omgivelser og dit eget "
            "liv betyder også meget.</p>"
        ),
        "answer_en": (
            "<p>Partly. If others in your family have had chronic pain, your risk may be "
            "higher. But genes are only part of the explanation. Your surroundings and your "
            "own life also matter a lot.</p>"
        ),
    },
]


# Keys of a condition's spec that hold its child rows rather than its own fields.
CHILD_ROWS = {
    "sections",
    "figures",
    "risk_factors",
    "diagnosis_steps",
    "symptoms",
    "recommendations",
}


def _prepared(model, values: dict) -> dict:
    """Clean rich text the way the field does on save, so a rerun compares equal."""
    prepared = dict(values)
    for name, value in values.items():
        if value and isinstance(model._meta.get_field(name), RichTextField):
            prepared[name] = model._meta.get_field(name).sanitize(value)
    return prepared


def _save(model, instance, values: dict):
    return upsert(instance or model(), _prepared(model, values))


def _sync_rows(model, condition: Condition, rows: list[dict]) -> None:
    """Make the condition's rows of `model` match `rows`, numbered 1, 2, 3 ... by order."""
    kept = {}
    for row in model.objects.filter(condition=condition).order_by("order", "pk"):
        if 1 <= row.order <= len(rows) and row.order not in kept:
            kept[row.order] = row
        else:
            row.delete()
    for order, values in enumerate(rows, start=1):
        instance = kept.get(order) or model(condition=condition, order=order)
        upsert(instance, _prepared(model, values))


def _texts(pairs) -> list[dict]:
    return [{"text_da": da, "text_en": en} for da, en in pairs]


def _load_condition(spec: dict, review: dict, treatments: dict, sources: dict) -> Condition:
    fields = {key: value for key, value in spec.items() if key not in CHILD_ROWS}
    condition = _save(
        Condition, Condition.objects.filter(slug_da=spec["slug_da"]).first(), fields | review
    )
    _sync_rows(ConditionSection, condition, spec.get("sections", []))
    _sync_rows(
        KeyFigure,
        condition,
        [
            {key: value for key, value in figure.items() if key != "source"}
            | {"source_id": sources[figure["source"]].pk if figure.get("source") else None}
            for figure in spec.get("figures", [])
        ],
    )
    _sync_rows(RiskFactor, condition, _texts(spec.get("risk_factors", [])))
    _sync_rows(DiagnosisStep, condition, _texts(spec.get("diagnosis_steps", [])))
    _sync_rows(Symptom, condition, _texts(spec.get("symptoms", [])))
    _sync_rows(
        TreatmentRecommendation,
        condition,
        [
            {
                "treatment_id": treatments[slug].pk,
                "phase": phase,
                "note_da": note_da,
                "note_en": note_en,
            }
            for slug, phase, note_da, note_en in spec.get("recommendations", [])
        ],
    )
    return condition


def load_demo_content() -> None:
    """Create or update the demo conditions, treatments, source and FAQs (idempotent)."""
    reviewer = Practitioner.objects.get(name=PRACTITIONER["name"])
    review = {
        "status": Publishable.Status.PUBLISHED,
        "published_at": PUBLISHED_AT,
        "reviewed_on": REVIEWED_ON,
        "reviewed_by_id": reviewer.pk,
    }

    sources = {
        spec["title_da"]: _save(
            Source, Source.objects.filter(title_da=spec["title_da"]).first(), spec
        )
        for spec in SOURCES
    }

    treatments = {}
    for order, spec in enumerate(TREATMENTS, start=1):
        values = {"offered_by_clinic": False, "order": order} | spec | review
        existing = Treatment.objects.filter(slug_da=spec["slug_da"]).first()
        treatments[spec["slug_da"]] = _save(Treatment, existing, values)

    conditions = {
        spec["slug_da"]: _load_condition(spec, review, treatments, sources) for spec in CONDITIONS
    }

    topics = {
        spec["name_da"]: _save(
            FAQTopic, FAQTopic.objects.filter(name_da=spec["name_da"]).first(), spec
        )
        for spec in FAQ_TOPICS
    }

    for order, spec in enumerate(FAQS, start=1):
        values = {
            "question_da": spec["question_da"],
            "question_en": spec["question_en"],
            "answer_da": spec["answer_da"],
            "answer_en": spec["answer_en"],
            "topic_id": topics[spec["topic"]].pk,
            "order": order,
            "published": True,
        }
        faq = _save(FAQ, FAQ.objects.filter(question_da=spec["question_da"]).first(), values)
        faq.conditions.set([conditions[slug] for slug in spec.get("conditions", [])])
        faq.treatments.set([treatments[slug] for slug in spec.get("treatments", [])])
        faq.sources.set([sources[title] for title in spec.get("sources", [])])
