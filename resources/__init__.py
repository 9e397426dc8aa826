"""Icons, desktop entry and styles; shipped inside the wheel as `regview.resources`."""
