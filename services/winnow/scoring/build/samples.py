"""Texts the export checks agreement on: support questions and answers, chit-chat, odd input.

Kept in code (not read from ``shared/data``) so a build needs nothing but the model wheel.
"""

from __future__ import annotations

_BASE = [
    "How do I get a refund for my last order?",
    "I was charged twice for the same invoice, can you fix it?",
    "where is my package it was supposed to arrive yesterday",
    "Cancel my subscription to the newsletter please.",
    "I want to change the shipping address on order 12345.",
    "Can I talk to a human agent?",
    "The app keeps crashing when I try to log in to my account.",
    "What payment methods do you accept?",
    "Your delivery service is terrible and I want to complain.",
    "How long does standard shipping take to Canada?",
    "I forgot my password and the reset email never came.",
    "Is there a fee if I cancel my order now?",
    "Thanks, that solved it!",
    "I'm sorry to hear that. I've issued a full refund; it should appear in 3-5 business days.",
    "To change your address, open Orders, pick the order and choose 'Edit shipping address'.",
    "You can reach our support team 24/7 by chat or at the phone number on our website.",
    "What's the weather like in Paris tomorrow?",
    "Tell me a joke about penguins.",
    "asdf qwerty zxcv",
    "??",
    "a",
    "Ünïcödé façade naïve café — déjà vu 東京 🚀",
    "SELECT * FROM users WHERE id = 1; DROP TABLE users;",
    "Human: What is the capital of France?\n\nAssistant: The capital of France is Paris.",
    "The quick brown fox jumps over the lazy dog. " * 3,
    "My card was declined at checkout even though I have enough money in my account.",
    "Explain the difference between a refund and a chargeback in simple terms.",
    "Please delete my account and all my personal data.",
]

_LONG = (
    "I placed an order three weeks ago and it still has not arrived. I contacted support twice, "
    "was promised a callback that never happened, and the tracking page has shown the same "
    "status since the first day. I would like either the parcel delivered this week or a full "
    "refund, including the express shipping fee I paid, and an explanation of what went wrong. "
)


def sample_texts() -> list[str]:
    """About forty texts from 1 to over 256 tokens (the long ones exercise truncation)."""
    return [*_BASE, _LONG, _LONG * 2, _LONG * 6, " ".join(_BASE), " ".join(reversed(_BASE))]
