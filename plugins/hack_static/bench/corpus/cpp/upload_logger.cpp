// Scribe logging of uploaded photos and profile reads.
#include <folly/dynamic.h>
#include "scribe/ScribeClient.h"

#define CATEGORY "photo_uploads_v2"
constexpr bool kVerbose = false;

namespace photos {

void UploadLogger::log(const PhotoUpload& upload) {
  folly::dynamic row = folly::dynamic::object("id", upload.photo_id)("where", upload.location);
  scribe_->log(CATEGORY, row);
  // FLOW mysql://appdb:3306/photos_app.photos#photo_id -> log://scribe/photo_uploads_v2#id
  // FLOW mysql://appdb:3306/photos_app.photos#location -> log://scribe/photo_uploads_v2#where
  auto caption = upload.caption;
  folly::dynamic moderation = folly::dynamic::object("text", caption);
  scribe_->log("caption_review", moderation);
  // FLOW mysql://appdb:3306/photos_app.photos#caption -> log://scribe/caption_review#text
  // NOFLOW mysql://appdb:3306/photos_app.photos#location -> log://scribe/caption_review#text
  if (kVerbose) {
    scribe_->log("upload_debug", folly::dynamic::object("loc", upload.location));
  }
  // NOFLOW mysql://appdb:3306/photos_app.photos#location -> log://scribe/upload_debug#loc
  folly::dynamic hashed = folly::dynamic::object("loc_hash", hashLocation(upload.location));
  scribe_->log("upload_geo_hashes", hashed);
  // NOFLOW mysql://appdb:3306/photos_app.photos#location -> log://scribe/upload_geo_hashes#loc_hash
}

void UploadLogger::logSummary(const PhotoUpload& upload, int count) {
  std::string summary = "user " + std::to_string(upload.user_id);
  scribe_->log("upload_summaries", folly::dynamic::object("summary", summary)("count", count));
  // FLOW mysql://appdb:3306/photos_app.photos#user_id -> log://scribe/upload_summaries#summary
  // NOFLOW mysql://appdb:3306/photos_app.photos#user_id -> log://scribe/upload_summaries#count
}

}  // namespace photos
