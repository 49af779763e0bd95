"""Reports rendered from the figures of store/reports.py: the annual HTML report and the self-assessment."""
