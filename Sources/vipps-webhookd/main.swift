import WebhookDaemon

VippsWebhookdCommand.run()
