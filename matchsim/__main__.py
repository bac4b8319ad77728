"""``python -m matchsim`` runs the command line."""

from matchsim.cli import main

if __name__ == "__main__":
    main()
