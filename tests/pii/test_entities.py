"""Names, addresses, ids, usernames and spoken credentials: what the word-level detectors take
and what they leave, and numbered placeholders per conversation."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from winnow.events import ChatMessage, Role
from winnow.example import Example, ExampleKind, SourceRef, example_id
from winnow.pii.conversation import find_pii_in_turns
from winnow.pii.entities import Expect, expectation
from winnow.pii.example import redact_example
from winnow.pii.redact import redact_pii

NOW = datetime(2026, 11, 1, tzinfo=UTC)


def _clean(text: str, expect: Expect = Expect.NOTHING) -> str:
    return redact_pii(text, expect, entities=True).text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Names: cues, salutations, sign-offs, Title-case full names, lower-case chat.
        ("Regards, Priya", "Regards, <NAME>"),
        ("Hi Norman, thanks for waiting.", "Hi <NAME>, thanks for waiting."),
        ("Thanks, Crystal", "Thanks, <NAME>"),
        ("my name is john smith", "my name is <NAME>"),
        ("You are speaking with Katarina Miller.", "You are speaking with <NAME>."),
        ("name hemanth", "name <NAME>"),
        # Ids, usernames, credentials said in words.
        ("Account ID: B3BLRKKZQQ please check", "Account ID: <ID> please check"),
        ("my PIN is 4421", "my PIN is <SECRET>"),
        ("My mother's maiden name is Sanchez.", "My mother's maiden name is <CREDENTIAL>."),
        ("my childhood pet is buddy", "my childhood pet is <CREDENTIAL>"),
        ("password is raj 123", "password is <CREDENTIAL>"),
        ("my username is jdoe88", "my username is <USERNAME>"),
        ("booking number is fd 78 kr", "booking number is <ID>"),
        # Addresses and card-like numbers that fail Luhn, with expiry and CVV next to them.
        ("I live at 9756 Primrose Street. Where is it?", "I live at <ADDRESS>. Where is it?"),
        ("700 oak street brockton ma 2301", "<ADDRESS>"),
        ("my card number is 1356 2467 0987 5678 exp 09/27 cvv 123", "my card number is <ID>"),
        # Local 7-digit phone numbers after a phone word.
        ("my number is 555 7709", "my number is <PHONE>"),
        ("Call me on 555-7709 tonight", "Call me on <PHONE> tonight"),
    ],
)
def test_taken(text: str, expected: str) -> None:
    assert _clean(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A name typed before another value, as in "name and account number?" answers.
        ("suganthi and 2220", "<NAME> and <ID>"),
        # A name and then a code, the whole turn ("name and password?").
        ("john 458", "<NAME> <ID>"),
        ("name anitha and 8500", "name <NAME> and <ID>"),
        # A turn that is only a short word and a number is a code, whatever the letters spell.
        ("sec 458", "<ID>"),
        # A name cue wins over a car make; a listed first name is no mistyped make.
        ("my name is mercedes", "my name is <NAME>"),
        ("tessa salinas", "<NAME>"),
        ("city name is davis", "city name is <ADDRESS>"),
        # A code spelled letter by letter anywhere in a sentence; the accounts of a transfer.
        ("yeah please make a note of it v 2 z 8 s 7", "yeah please make a note of it <ID>"),
        (
            "can you transfer 100 dollars from 2256 to 7894",
            "can you transfer 100 dollars from <ID> to <ID>",
        ),
        # Mistyped password cues and a password typed over two groups.
        ("my name is david my passowrd is jfkjf", "my name is <NAME> my passowrd is <CREDENTIAL>"),
        (
            "company name is hcl and passwort hcl 123",
            "company name is hcl and passwort <CREDENTIAL>",
        ),
        ("password is 8945 hs", "password is <SECRET>"),
        # House numbers after the street, post-office boxes, a house number before a street
        # line read as one address.
        ("london street number 65", "<ADDRESS>"),
        ("my address is po box 8963 fire ma 89653", "my address is <ADDRESS>"),
        ("1422 broadway new york ny 10036 usa", "<ADDRESS>"),
        # A turn that is only an address: a street type among unknown names and places.
        ("muthuraja 143 complex pune", "<ADDRESS>"),
        ("muthuraja mm shoping mall kambur us", "<ADDRESS>"),
        ("memorial street", "<ADDRESS>"),
        ("no 87 thav hukkam va 65", "<ADDRESS>"),
        ("address western street", "address <ADDRESS>"),
        ("kamali yumu ssn no 3545", "<NAME> ssn no <ID>"),
        ("kannan j 87 g 54", "<NAME> <ID>"),
        ("myself libby marcos", "myself <NAME>"),
        ("clara is my name", "<NAME> is my name"),
        ("my nameis raghav kannan", "my nameis <NAME>"),
        ("this is thomson", "this is <NAME>"),
        # City, state and zip lines; USPS street suffixes; Indian PIN codes.
        ("i am from addison 75001", "i am from <ADDRESS>"),
        ("avon ma 8569", "<ADDRESS>"),
        ("88 rutherford ridges apt 627 lake frankie vermont 67322", "<ADDRESS>"),
        ("812 chennai 600357", "<ADDRESS>"),
        ("my address is texas austin", "my address is <ADDRESS>"),
        ("texas austin usa", "<ADDRESS>"),
        ("new york", "<ADDRESS>"),
        ("money should be transferred to 7856942369", "money should be transferred to <ID>"),
        # Codes with letter prefixes after "number is"; passwords over short groups.
        ("account number is ar 7895611", "account number is <ID>"),
        ("the confirmation number is fkjd 43", "the confirmation number is <ID>"),
        ("pass word ewru 87 cc", "pass word <CREDENTIAL>"),
        # Security answers.
        (
            "I only know my mother's maiden name which is Wong",
            "I only know my mother's maiden name which is <CREDENTIAL>",
        ),
        ("I do remember my childhood dog, Buddy.", "I do remember my childhood dog, <CREDENTIAL>."),
        ("my security question is Molly", "my security question is <CREDENTIAL>"),
        # Passwords: groups after the cue, even a digit or letter first; the words that end a
        # short turn after the cue when one of them is no English word.
        ("password 8 ktrqz", "password <CREDENTIAL>"),
        ("my password is q 7", "my password is <CREDENTIAL>"),
        ("the password is 4 x 2 plomtrezk", "the password is <CREDENTIAL>"),
        ("pasword voranth star", "pasword <CREDENTIAL>"),
        # A code after a name: letters no dictionary knows and few digits, a leading zero, a
        # name that ran over the code's letters; a turn that is only such a code.
        ("meena gtrw 5 xkd", "<NAME> <ID>"),
        ("ravi 09", "<NAME> <ID>"),
        ("priya and jx 58", "<NAME> and <ID>"),
        ("harish hrdfk 38", "<ID>"),
        ("zuvqo 47", "<ID>"),
        ("pq 61 druvk", "<ID>"),
        # Addresses: a house number, an initial or a name and places no dictionary knows
        # (after a phone number or a "yes" too), a flat or suite and its number, a place turn
        # of two unknown names and two ordinary words.
        ("74 k velakurichi", "<ADDRESS>"),
        ("yes 318 som pallavur", "yes <ADDRESS>"),
        ("flat no 12", "<ADDRESS>"),
        ("suite 4 b 2210", "<ADDRESS>"),
        ("jayanth pondy mm shopping mall karuvoor", "<ADDRESS>"),
    ],
)
def test_taken_in_chat(text: str, expected: str) -> None:
    """Values as crowd workers type them in lower-cased, unpunctuated chat (MultiDoGO, STAR)."""
    assert _clean(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Please hold, Customer Service will call you back.",
        "I ordered the Galaxy S21 and the AirPods Pro.",
        "I need 5 gb data plan",
        "i need 2 veg out pizza",
        "It was delivered on 20062018",
        "I paid 1500 last month",
        "thank you so much, have a good day",
        "yessure",
        "Your PIN as well please.",
        "We went there in 2019 for a week.",
        # Foods and models, amounts, dates and years near their words, typos of chat words.
        "i will wait",
        "pesto drizzle over grilled chicken",
        "psrew 400",
        "ok 250",
        "shopping mall",
        "next street",
        "no 2 pizzas",
        "reorder my keyboards from 20 to 25 peices",
        "2 agua frescas",
        "3 sausage mcgriddles",
        "19 th jube",
        "10 gb okab",
        "maruti 800",
        "my password is not working",
        "password reset please",
        "transfer from 2018 to 2019",
        "transfer 3000 from savings",
        "the address is the same street",
        "Provide the updated address information, including street name, number",
        "cheese burger",
        # Companies, apps and cars are no people, named after their noun or before a suffix.
        "my company name is shivaay infotech",
        "app name skype",
        "car name hyundai xcent",
        "jackson software company",
        # A car make (or one mistyped) answers "which car?", not "who?".
        "maruti suzuki",
        "maruthi",
        "honda crv",
        # Which security answer, amounts written with a trailing currency sign, institutions.
        "Do you know security answer 1?",
        "Provide me with security answer 2 please.",
        "someone withdrew 300$ from my account",
        "is it Bank of America?",
        "pay 350",
        "dec 486",
        "it is 2016 model",
        "a charge of 10525 is not mine",
        "date 05172018 time 130 pm",
        "thaks",
        "cable",
        "I forgot",
        "my dog is sick",
        # Interface labels, numbered steps and opening hours in an agent's instructions.
        "Look for the Address Book option",
        "our team is available 24/7",
        "Please follow these steps to recover your password:  1. Go to the login page",
    ],
)
def test_left_alone(text: str) -> None:
    """Role words, product names, quantities, dates, amounts and chat are not personal data."""
    assert _clean(text) == text


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("fries 1", " 1"),
        ("honda crv 2016", " 2016"),
        ("maruthi 1000 cc", " 1000 cc"),
        ("jun 20 2018", " 20 2018"),
        ("dare 04052018", " 04052018"),
        ("rebatingg $1499", " $1499"),
    ],
)
def test_quantities_years_and_dates_after_a_word_are_no_code(text: str, kept: str) -> None:
    """A name-like word then a quantity, model year, unit or date keeps the number: only a
    code of three digits or more after a name is taken as the password/account answer."""
    assert _clean(text).endswith(kept)


def test_street_word_and_number_without_a_name_is_no_address() -> None:
    """ "the street number 5": a street word after a function word is no street name."""
    assert _clean("the street number 5 is wrong") == "the street number 5 is wrong"


def test_question_makes_a_bare_answer_a_value() -> None:
    """'Jane Doe' or '9431' alone is taken after the agent asked for a name or a PIN; the same
    ordinary words after an unrelated question are left."""
    assert expectation("Could I get your full name, please?") & Expect.NAME
    assert expectation("Right, and your PIN as well please.") & Expect.CREDENTIAL
    hits = find_pii_in_turns(
        [
            ("agent", "Could I get your full name, please?"),
            ("customer", "Jane Doe"),
            ("agent", "Right, and your PIN as well please."),
            ("customer", "3100"),
            ("agent", "And what was the name of the pet you had as a child?"),
            ("customer", "My poor Poppy. She was lovely."),
            ("agent", "Anything else?"),
            ("customer", "Oh I remember my PIN now, it is either 9431 or 7402"),
        ]
    )
    taken = [[(h.start, h.end) for h in turn] for turn in hits]
    assert taken[1] == [(0, 8)]
    assert taken[3] == [(0, 4)]
    assert (8, 13) in taken[5]  # "Poppy"
    text = "Oh I remember my PIN now, it is either 9431 or 7402"
    assert {text[s:e] for s, e in taken[7]} >= {"9431", "7402"}


def test_agent_instructions_are_no_answer() -> None:
    """A customer's question ("How do I reset my password?") does not make the agent's
    answer a credential; an agent's question does make the customer's answer one."""
    hits = find_pii_in_turns(
        [
            ("user", "How do I reset my password?"),
            ("assistant", "Click Forgot Password, then Reset."),
            ("assistant", "What is your mother's maiden name?"),
            ("user", "Sanchez"),
        ]
    )
    assert hits[1] == [] and [(h.start, h.end) for h in hits[3]] == [(0, 7)]


def test_placeholders_are_numbered_per_conversation() -> None:
    """The same person keeps one placeholder across turns (also by first name alone); another
    person gets the next number."""
    messages = [
        ChatMessage(role=Role.USER, content="Hi, this is Priya Raman, account 84318931431."),
        ChatMessage(
            role=Role.ASSISTANT,
            content="Thanks Priya, I have sent account 84318931431 to Norman.",
        ),
    ]
    ex = Example(
        id=example_id(tenant="t", kind=ExampleKind.SFT, messages=messages),
        kind=ExampleKind.SFT,
        tenant="t",
        messages=messages,
        provenance="human_agent",
        source=SourceRef(event_id="e", event_type="support_ticket"),
        event_time=NOW,
    )
    redacted, counts = redact_example(ex)
    assert redacted.messages[0].content == "Hi, this is <NAME_1>, account <ID_1>."
    assert (
        redacted.messages[1].content == "Thanks <NAME_1>, I have sent account <ID_1> to <NAME_2>."
    )
    assert counts and redacted.redactions == {"name": 3, "id": 2}
    again, _ = redact_example(redacted)
    assert again.messages == redacted.messages  # placeholders are never read as names


@pytest.mark.parametrize(
    ("orders", "key", "expected"),
    [
        ("keep", None, "Order ORD-123456 shipped; order ORD-123456 again."),
        ("redact", b"k", "Order <ORDER_1> shipped; order <ORDER_1> again."),
        ("pseudonymise", None, "Order <ORDER_1> shipped; order <ORDER_1> again."),
    ],
)
def test_order_number_policy(orders: str, key: bytes | None, expected: str) -> None:
    """Order numbers are kept, redacted, or (with a key) replaced by a keyed pseudonym."""
    assert _example_text("Order ORD-123456 shipped; order ORD-123456 again.", orders, key) == (
        expected
    )


def test_order_pseudonyms_are_stable_and_keyed() -> None:
    """The same order gets the same pseudonym in every ticket; another key gives another."""
    a = _example_text("Order ORD-123456 shipped.", "pseudonymise", b"key-1")
    b = _example_text("Where is order ord-123456?", "pseudonymise", b"key-1")
    c = _example_text("Order ORD-123456 shipped.", "pseudonymise", b"key-2")
    pseudonym = a.split()[1]
    assert pseudonym.startswith("ORD-") and pseudonym != "ORD-123456"
    assert pseudonym in b and pseudonym not in c


def _example_text(text: str, orders: str, key: bytes | None) -> str:
    messages = [ChatMessage(role=Role.USER, content=text)]
    ex = Example(
        id=example_id(tenant="t", kind=ExampleKind.SFT, messages=messages),
        kind=ExampleKind.SFT,
        tenant="t",
        messages=messages,
        provenance="human_agent",
        source=SourceRef(event_id="e", event_type="support_ticket"),
        event_time=NOW,
    )
    redacted, _ = redact_example(ex, subject_key=key, orders=orders)  # type: ignore[arg-type]
    return redacted.messages[0].content


def test_surrogate_values_read_as_a_conversation() -> None:
    """With `placeholders="surrogate"` and a key, a person keeps one realistic stand-in across
    turns (also by first name alone), reserved ranges stand in for phones, e-mails and cards,
    no original survives, and another key gives other stand-ins; without a key it stays
    numbered (an unkeyed stand-in could be reversed from a name list)."""
    text = "Hi, this is Priya Raman, call 555-7709 or jane@corp.com, card 4242 4242 4242 4242"
    messages = [
        ChatMessage(role=Role.USER, content=text),
        ChatMessage(role=Role.ASSISTANT, content="Thanks Priya, done."),
    ]
    ex = Example(
        id=example_id(tenant="t", kind=ExampleKind.SFT, messages=messages),
        kind=ExampleKind.SFT,
        tenant="t",
        messages=messages,
        provenance="human_agent",
        source=SourceRef(event_id="e", event_type="support_ticket"),
        event_time=NOW,
    )
    first, _ = redact_example(ex, subject_key=b"key-1", placeholders="surrogate")
    again, _ = redact_example(ex, subject_key=b"key-1", placeholders="surrogate")
    other, _ = redact_example(ex, subject_key=b"key-2", placeholders="surrogate")
    plain, _ = redact_example(ex, subject_key=None, placeholders="surrogate")
    out = [m.content for m in first.messages]
    assert out == [m.content for m in again.messages] != [m.content for m in other.messages]
    for original in ("Priya", "Raman", "555-7709", "jane@corp.com", "4242"):
        assert original not in " ".join(out)
    name = out[0].split("this is ")[1].split(",")[0]
    assert len(name.split()) == 2 and out[1] == f"Thanks {name.split()[0]}, done."
    assert "555-01" in out[0] and "@example.com" in out[0] and "<" not in out[0]
    assert plain.messages[0].content.startswith("Hi, this is <NAME_1>, call <PHONE>")


def test_turns_joined_in_one_message_are_read_as_turns() -> None:
    """The normaliser joins a speaker's consecutive turns with a blank line; each part is still
    read as the short turn it was ("suganthi and 2220" is a name and an id only as a turn of
    its own), so a customer-only chat loses nothing by arriving as one message."""
    turns = ["hi i need my account balance", "suganthi and 2220", "umesh yadav"]
    messages = [
        ChatMessage(role=Role.USER, content="\n\n".join(turns)),
        ChatMessage(role=Role.ASSISTANT, content="Thanks, one moment."),
    ]
    ex = Example(
        id=example_id(tenant="t", kind=ExampleKind.SFT, messages=messages),
        kind=ExampleKind.SFT,
        tenant="t",
        messages=messages,
        provenance="human_agent",
        source=SourceRef(event_id="e", event_type="support_ticket"),
        event_time=NOW,
    )
    redacted, _ = redact_example(ex)
    content = redacted.messages[0].content
    assert content.split("\n\n")[:2] == ["hi i need my account balance", "<NAME_1> and <ID_1>"]
    assert "suganthi" not in content and "2220" not in content


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("95 as 45185 so 31914", "<ID>"),
        ("my card is 9856 sd 2548 jk 1914 thanks", "my card is <ID> thanks"),
    ],
)
def test_a_number_dictated_with_filler_words_is_taken_whole(text: str, expected: str) -> None:
    assert _clean(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "i paid 1520 and 2040 and 3060 rupees",  # amounts with their unit
        "i paid 1500 and 2000 and 3000 for it",  # round amounts
        "flight 123 to 456 on 789",  # under ten digits
    ],
)
def test_number_lists_are_not_a_dictated_number(text: str) -> None:
    assert _clean(text) == text


def test_a_zip_then_a_phone_number_stay_two_values() -> None:
    """ "ph" starts the next value: the zip and the phone are not merged into one id."""
    out = _clean("374 william s canning blvd fall river ma 2721 ph 963 210 7458")
    assert " ph " in out and "2721" not in out and "7458" not in out


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("i want a 2 g 4 g phone", "i want a 2 g 4 g phone"),
        ("does the network do 4 g 5 g", "does the network do 4 g 5 g"),
        ("its johnson and 2 g 3 g 4 g", "its <NAME> and <ID>"),
        # a spelled booking code with a "4 g" in it is still a code
        ("booking code is a 4 g 4 f 3", "booking code is <ID>"),
    ],
)
def test_network_generations_are_no_code(text: str, expected: str) -> None:
    assert _clean(text) == expected


@pytest.mark.parametrize(
    ("text", "names"),
    [
        # A payee named after "to"/"of" that no name list knows, possessive or not.
        ("Please transfer 1,740 dollars to Abhinav.", ["Abhinav"]),
        ("Transfer $1,630 to Amir's checking account.", ["Amir"]),
        ("into the checking account of Xiaoxue.", ["Xiaoxue"]),
        # A full name in the possessive is one name, not two.
        ("Look for the invoices associated with David Miller's account.", ["David Miller"]),
        # A run of capitalised words after "to" is a hotel or a place; a listed city is none.
        ("Can I move the booking to Novotel Paris?", []),
        ("I moved to Sacramento last year.", []),
        # Lower-case chat has no capitals to read: the rule is for cased text only.
        ("please transfer it to abhinav", []),
    ],
)
def test_capitalised_payee_no_list_knows(text: str, names: list[str]) -> None:
    found = find_pii_in_turns([("customer", text)])[0]
    assert [text[h.start : h.end] for h in found if h.type.value == "name"] == names
