"""What runs inside the data plane's app processes (standard library only, no bluegreen).

- :mod:`.shim`: makes a server that binds a port (``0.0.0.0:80`` in its container) bind
  an ephemeral port of 127.0.0.1 instead, and reports which, so the emulator can reach
  the container's port on loopback whatever port the app chose;
- :mod:`.zygote`: the process that starts app processes (imports the web frameworks once,
  then forks a fresh process for every container).

Both run in the app's interpreter, never in the emulator's process.
"""
