"""Reading residents' letters: OCR, the sender, the letter's date, a reference and the
deadline. The contract with the intake is ``bot.letters.model``."""
