<?hh // strict

final class ProfileController extends WebController {
  const bool VERBOSE = false;

  public async function genUpdate(): Awaitable<void> {
    $body = $this->getRequestBody();
    $viewer = $this->getViewerID();
    $db = await $this->genDB();
    await $db->insert('profiles', dict[
      'user_id' => $viewer,
      'bio' => $body['bio'],
      'hometown' => $body['hometown'],
      'theme' => 'dark',
    ]);
    // FLOW https://www.photoshare.example//api/v1/photos/upload#viewer_id -> mysql://appdb:3306/photos_app.profiles#user_id
    // FLOW https://www.photoshare.example//api/v1/photos/upload#bio -> mysql://appdb:3306/photos_app.profiles#bio
    // FLOW https://www.photoshare.example//api/v1/photos/upload#hometown -> mysql://appdb:3306/photos_app.profiles#hometown
    // NOFLOW https://www.photoshare.example//api/v1/photos/upload#theme -> mysql://appdb:3306/photos_app.profiles#theme
    Logger::log('profile_updates', dict['user_id' => $viewer, 'hometown' => $body['hometown']]);
    // FLOW mysql://appdb:3306/photos_app.profiles#user_id -> log://scribe/profile_updates#user_id
    // FLOW mysql://appdb:3306/photos_app.profiles#hometown -> log://scribe/profile_updates#hometown
    if (self::VERBOSE) {
      Logger::log('profile_debug', dict['bio' => $body['bio']]);
    }
    // NOFLOW mysql://appdb:3306/photos_app.profiles#bio -> log://scribe/profile_debug#bio
    // NOFLOW https://www.photoshare.example//api/v1/photos/upload#bio -> log://scribe/profile_debug#bio
    Logger::log('profile_hashes', dict['bio_hash' => sha256($body['bio'])]);
    // NOFLOW mysql://appdb:3306/photos_app.profiles#bio -> log://scribe/profile_hashes#bio_hash
  }

  public async function genSearch(): Awaitable<void> {
    $q = $this->getParam('query');
    $limit = $this->getParam('limit');
    $msg = "search for ".$q;
    Logger::log('searches', dict['text' => $msg]);
    // FLOW https://www.photoshare.example//api/v1/photos/upload#query -> log://scribe/searches#text
    // NOFLOW https://www.photoshare.example//api/v1/photos/upload#limit -> log://scribe/searches#text
    await $this->http->genPost('http://search.internal', '/v1/query', dict['q' => $q]);
    // FLOW https://www.photoshare.example//api/v1/photos/upload#query -> http://search.internal//v1/query#q
  }
}
