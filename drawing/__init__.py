"""Drawing that is not WeChat: QR codes, posters, PDF documents."""
