"""The winners' mail-in of stamped paper materials: statuses, the mailroom's checklist, export."""
