<?hh // strict

final class CommentController extends WebController {
  public async function genPost(): Awaitable<void> {
    $body = $this->getRequestBody();
    $author = $this->getViewerID();
    $text = $this->sanitize($body['text']);
    $this->logComment($author, $text);
    // FLOW https://www.photoshare.example//api/v1/photos/upload#viewer_id -> log://scribe/comments#author
    // FLOW https://www.photoshare.example//api/v1/photos/upload#text -> log://scribe/comments#text
    AsyncQueue::enqueue('comment_moderation', dict['text' => $text, 'lang' => 'en']);
    // FLOW https://www.photoshare.example//api/v1/photos/upload#text -> queue://async/comment_moderation#text
    $ip = $body['client_ip'];
    $ip = '0.0.0.0';
    Logger::log('comment_ips', dict['ip' => $ip]);
    // NOFLOW https://www.photoshare.example//api/v1/photos/upload#client_ip -> log://scribe/comment_ips#ip
    $tags = idx($body, 'tags');
    foreach ($tags as $tag) {
      AsyncQueue::enqueue('tag_index', dict['tag' => $tag]);
    }
    // FLOW https://www.photoshare.example//api/v1/photos/upload#tags -> queue://async/tag_index#tag
  }

  private function sanitize(string $raw): string {
    return trim($raw);
  }

  private function logComment(int $author, string $text): void {
    Logger::log('comments', dict['author' => $author, 'text' => $text]);
  }
}
