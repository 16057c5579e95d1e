<?hh // strict

final class MessagingController extends WebController {
  const string CHAT_HOST = 'http://chat.internal';
  const bool SHADOW_LOG = false;

  public async function genSend(): Awaitable<void> {
    $body = $this->getRequestBody();
    $sender = $this->getViewerID();
    $recipient = $body['recipient_id'];
    $message = $body['message'];
    await $this->http->genPost(self::CHAT_HOST, '/v1/deliver', dict[
      'from' => $sender,
      'to' => $recipient,
      'body' => $message,
    ]);
    // FLOW https://www.photoshare.example//api/v1/photos/upload#viewer_id -> http://chat.internal//v1/deliver#from
    // FLOW https://www.photoshare.example//api/v1/photos/upload#recipient_id -> http://chat.internal//v1/deliver#to
    // FLOW https://www.photoshare.example//api/v1/photos/upload#message -> http://chat.internal//v1/deliver#body
    await $this->cache->genSetCache("last_msg:{$sender}", dict['preview' => $message]);
    // FLOW https://www.photoshare.example//api/v1/photos/upload#message -> cache://memcache/last_msg:{}#preview
    Logger::log('message_stats', dict['len' => strlen($message), 'kind' => 'text']);
    // NOFLOW https://www.photoshare.example//api/v1/photos/upload#message -> log://scribe/message_stats#len (a length: no data)
    if (self::SHADOW_LOG) {
      Logger::log('message_shadow', dict['body' => $message]);
    }
    // NOFLOW https://www.photoshare.example//api/v1/photos/upload#message -> log://scribe/message_shadow#body
    Logger::log('message_audit', dict['sender' => Crypto::hmac($sender)]);
    // NOFLOW https://www.photoshare.example//api/v1/photos/upload#viewer_id -> log://scribe/message_audit#sender
  }
}
