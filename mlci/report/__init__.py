"""The report: its model, verdict, Markdown safety, trimming and renderers."""
