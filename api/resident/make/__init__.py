"""Making a complaint on the resident pages: one question a page, check answers, confirmation."""
