// Writes one Scribe line per uploaded photo for the warehouse tailer (C++ logging client).
#include <folly/dynamic.h>
#include "scribe/ScribeClient.h"
#include "photos/PhotoUpload.h"

#define UPLOADS_CATEGORY "photo_uploads"
constexpr bool kLogRawRows = false;

namespace photos {

void PhotoUploadLogger::logUpload(const PhotoUpload& upload) {
  folly::dynamic row = folly::dynamic::object("photo_id", upload.photo_id)(
      "user_id", upload.user_id)("location", upload.location);
  scribe_->log(UPLOADS_CATEGORY, row);

  // Masked: only a hash of the location reaches the sampling category.
  folly::dynamic sample = folly::dynamic::object("location_hash", hashLocation(upload.location));
  scribe_->log("photo_upload_samples", sample);

  // Dead branch: raw rows are never logged in production builds.
  if (kLogRawRows) {
    scribe_->log("photo_upload_raw", folly::dynamic::object("caption", upload.caption));
  }
}

}  // namespace photos
