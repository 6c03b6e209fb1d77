"""Reading residents' letters (OCR, deadline finding): see ``model`` for the contract."""
