"""The interactive `. ` prompt (prompt_toolkit): see app.run_repl."""
