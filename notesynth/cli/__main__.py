from notesynth.cli import main

main()
