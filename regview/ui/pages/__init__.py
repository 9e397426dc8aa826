"""The pages the main window shows: welcome, repositories, tags and details, overview."""
