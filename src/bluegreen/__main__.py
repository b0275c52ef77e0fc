from bluegreen.cli.app import run

run()
