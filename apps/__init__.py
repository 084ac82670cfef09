"""The user-facing apps: the Streamlit uploader and the webcam/video classifier."""
