<?hh // strict
// POST /api/v1/photos/upload: store the photo, log the upload, tell nearby-friends where it was taken.

final class PhotoUploadController extends WebController {
  const bool DEBUG_MODE = false;
  const string NEARBY_FRIENDS_HOST = 'http://nearby-friends.internal';

  public async function genUpload(): Awaitable<void> {
    $viewer_id = $this->getViewerID();
    $photo_data = $this->getRequestBody();
    $photo_id = await PhotoIDAllocator::genNext();
    $db = await $this->genDB();

    await $db->insert('photos', dict[
      'photo_id' => $photo_id,
      'user_id' => $viewer_id,
      'location' => $photo_data['location'],
      'caption' => $photo_data['caption'],
      'created_at' => time(),
    ]);

    Logger::log('photo_uploads', dict[
      'photo_id' => $photo_id,
      'user_id' => $viewer_id,
      'location' => $photo_data['location'],
    ]);

    if ($this->viewerSharesLocation()) {
      await $this->http->genPost(
        self::NEARBY_FRIENDS_HOST,
        '/api/v1/nearby_friends',
        dict['user_id' => $viewer_id, 'location' => $photo_data['location']],
      );
    }

    // The caption goes to content moderation; the location does not.
    AsyncQueue::enqueue('photo_moderation', dict[
      'photo_id' => $photo_id,
      'caption' => $photo_data['caption'],
    ]);

    // Not a flow of the location: only a hash of it reaches the metrics category (masked).
    Logger::log('upload_metrics', dict[
      'location_hash' => sha256($photo_data['location']),
    ]);

    // Not a flow: dead branch, DEBUG_MODE is false.
    if (self::DEBUG_MODE) {
      Logger::log('debug_uploads', dict['location' => $photo_data['location']]);
    }

    // Not a flow of user data: an unrelated variable.
    $client_version = '2.14.0';
    Logger::log('client_versions', dict['version' => $client_version]);
  }
}
