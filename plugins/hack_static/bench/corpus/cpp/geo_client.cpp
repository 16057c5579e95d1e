// Forwards photo geodata to the places index; parts of this file use macros tree-sitter cannot parse.
#include "scribe/ScribeClient.h"

#define FB_LOG_EVERY_N(n) if (++counter_ % n == 0)

namespace geo {

DEFINE_HANDLER(GeoForwarder)
void GeoForwarder::forward(const PhotoUpload& upload) {
  folly::dynamic place = folly::dynamic::object("lat_lng", upload.location)("owner", upload.user_id);
  scribe_->log("places_index", place);
  // FLOW mysql://appdb:3306/photos_app.photos#location -> log://scribe/places_index#lat_lng
  // FLOW mysql://appdb:3306/photos_app.photos#user_id -> log://scribe/places_index#owner
  FB_LOG_EVERY_N(100) {
    scribe_->log("places_sampled", folly::dynamic::object("owner", upload.user_id));
  }
  // FLOW mysql://appdb:3306/photos_app.photos#user_id -> log://scribe/places_sampled#owner
  std::string region = "emea";
  scribe_->log("places_regions", folly::dynamic::object("region", region));
  // NOFLOW mysql://appdb:3306/photos_app.photos#location -> log://scribe/places_regions#region
}

void GeoForwarder::forwardAll(const std::vector<PhotoUpload>& uploads) {
  for (const auto& upload : uploads) {
    forwardOne(upload);
  }
}

void GeoForwarder::forwardOne(const PhotoUpload& upload) {
  folly::dynamic row = folly::dynamic::object("caption", upload.caption);
  row["created"] = upload.created_at;
  scribe_->log("places_captions", row);
  // FLOW mysql://appdb:3306/photos_app.photos#caption -> log://scribe/places_captions#caption
  // FLOW mysql://appdb:3306/photos_app.photos#created_at -> log://scribe/places_captions#created
}

}  // namespace geo
