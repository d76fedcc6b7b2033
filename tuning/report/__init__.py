"""Figures and tables: study plots, retraining figures, the `tune studies` table."""
