-- A webhook posts the notices as signed JSON (json), or to a chat group's
-- robot in its own message format: WeCom (wecom) or DingTalk (dingtalk,
-- secret: the robot's signing secret, '' when it does not sign).
ALTER TABLE webhooks ADD COLUMN format TEXT NOT NULL DEFAULT 'json';
