"""aiogram routers: the bot's conversations with customers and staff."""
