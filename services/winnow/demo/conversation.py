"""Multi-turn support conversations for the demo generator.

Real tickets run 10-30 turns: small talk, the issue, identity checks, clarifying questions, maybe a
transfer to a colleague, the answer, and "thanks, that's all" / "have a great day" at the end.
This module wraps one question/answer pair of the generator in such a conversation, with
invented names and ids. Written for this project (no copied data); deterministic for an RNG.
"""

from __future__ import annotations

import random

_NAMES = [
    "Maria Lopez",
    "Tom Becker",
    "Aiko Tanaka",
    "Sam Okafor",
    "Priya Nair",
    "Lena Novak",
    "Jonas Berg",
    "Chloe Martin",
]
_AGENTS = ["Dana", "Rui", "Amara", "Felix", "Jo", "Mina"]
_TEAMS = {
    "billing": "billing",
    "shipping": "logistics",
    "account": "account security",
    "refunds": "payments",
    "technical": "technical support",
}
_CUSTOMER_HELLOS = ["Hi", "Hello!", "Hey there", "Good morning", "hi, anyone there?"]
_AGENT_HELLOS = [
    "Hi, thanks for contacting us! How can I help?",
    "Hello, my name is {agent}. How can I help you today?",
    "Good morning! What can I do for you?",
]
_SMALL_TALK = [
    ("How are you today?", "I'm doing well, thank you for asking!"),
    ("Sorry, it's been a long day.", "No worries at all, I'm here to help."),
]
_ID_ASKS = [
    "May I have your full name, please?",
    "Could you confirm the email address on the account?",
    "Can you tell me your order number, please?",
    "For security, what is your date of birth?",
]
_CLARIFY = {
    "billing": ("Which invoice or month is this about?", "The one from {month}."),
    "shipping": ("Which address should we use?", "12 Harbour Road, apartment 4."),
    "account": ("Which device are you signing in from?", "My laptop, in Chrome."),
    "refunds": ("Was the item opened or used?", "No, it is still sealed."),
    "technical": ("Which version of the app are you on?", "The latest one, I updated yesterday."),
}
_THANKS = ["Great, thank you!", "Perfect, thanks a lot.", "ok thanks", "That works, thank you."]
_ANYTHING_ELSE = [
    "Is there anything else I can help you with?",
    "Anything else I can do for you today?",
]
_DONE = ["No, that's all. Thanks!", "nothing else, thank you", "That's it, have a nice day"]
_BYES = [
    "You're welcome! Have a great day.",
    "Thank you for contacting us. Goodbye!",
    "Glad I could help. Take care!",
]
_SURVEY = "Please take a moment to rate this chat in the short survey that follows."


def _customer(text: str) -> dict[str, str]:
    return {"speaker": "customer", "text": text}


def _agent(text: str) -> dict[str, str]:
    return {"speaker": "agent", "text": text}


def conversation(
    rng: random.Random, domain: str, question: str, answer: str, month: str
) -> list[dict[str, str]]:
    """Turns of a realistic ticket around ``question`` / ``answer`` (5 to 30 turns)."""
    agent = rng.choice(_AGENTS)
    name = rng.choice(_NAMES)
    turns: list[dict[str, str]] = []
    if rng.random() < 0.7:
        turns += [_customer(rng.choice(_CUSTOMER_HELLOS))]
        turns += [_agent(rng.choice(_AGENT_HELLOS).format(agent=agent))]
        if rng.random() < 0.3:
            ask, reply = rng.choice(_SMALL_TALK)
            turns += [_customer(ask), _agent(reply)]
    turns.append(_customer(question))
    for ask in rng.sample(_ID_ASKS, rng.randint(1, 3)):
        turns.append(_agent(ask))
        turns.append(_customer(_identity_reply(rng, ask, name)))
    if domain in _CLARIFY and rng.random() < 0.7:
        ask, reply = _CLARIFY[domain]
        turns += [_agent(ask), _customer(reply.format(month=month))]
    if rng.random() < 0.2:
        colleague = rng.choice([a for a in _AGENTS if a != agent])
        team = _TEAMS.get(domain, "specialist")
        turns += [
            _agent(f"Let me transfer you to our {team} team, one moment please."),
            _customer("ok"),
            _agent(f"Hi {name.split()[0]}, this is {colleague} from {team}. I have your notes."),
        ]
    turns.append(_agent(answer))
    if rng.random() < 0.3:
        turns += [_customer("Will I get a confirmation by email?")]
        turns += [_agent("Yes, a confirmation is on its way to the address on your account.")]
    turns += [_customer(rng.choice(_THANKS)), _agent(rng.choice(_ANYTHING_ELSE))]
    turns += [_customer(rng.choice(_DONE)), _agent(rng.choice(_BYES))]
    if rng.random() < 0.3:
        turns.append(_agent(_SURVEY))
    return turns


def _identity_reply(rng: random.Random, ask: str, name: str) -> str:
    if "name" in ask:
        return name
    if "email" in ask:
        return f"{name.split()[0].lower()}.{rng.randrange(10, 99)}@example.com"
    if "order" in ask:
        return f"It's #{rng.choice('ABCDEFGH')}{rng.randrange(10**5, 10**6)}"
    return f"{rng.randint(1, 28)} March {rng.randint(1960, 2002)}"
