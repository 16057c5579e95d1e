// Exports profile rows to the warehouse log and the search index.
#include "scribe/ScribeClient.h"

namespace profiles {

void ProfileExporter::exportRow(const PhotoUpload& row, const Options& opts) {
  folly::dynamic out = folly::dynamic::object();
  out["uid"] = row.user_id;
  out["geo"] = row.location;
  out["flags"] = opts.flags;
  scribe_->log("profile_export", out);
  // FLOW mysql://appdb:3306/photos_app.photos#user_id -> log://scribe/profile_export#uid
  // FLOW mysql://appdb:3306/photos_app.photos#location -> log://scribe/profile_export#geo
  // NOFLOW mysql://appdb:3306/photos_app.photos#caption -> log://scribe/profile_export#flags
  auto label = buildLabel(row.caption, row.photo_id);
  scribe_->log("profile_labels", folly::dynamic::object("label", label));
  // FLOW mysql://appdb:3306/photos_app.photos#caption -> log://scribe/profile_labels#label
  // FLOW mysql://appdb:3306/photos_app.photos#photo_id -> log://scribe/profile_labels#label
  std::string geo = row.location;
  geo = "redacted";
  scribe_->log("profile_public", folly::dynamic::object("geo", geo));
  // NOFLOW mysql://appdb:3306/photos_app.photos#location -> log://scribe/profile_public#geo
}

void ProfileExporter::exportMany(const std::vector<PhotoUpload>& rows) {
  for (const PhotoUpload& r : rows) {
    scribe_->log("profile_bulk", folly::dynamic::object("when", r.created_at));
  }
}

void ProfileExporter::logOwner(const PhotoUpload& row) {
  sendOwner(row.user_id);
  // FLOW mysql://appdb:3306/photos_app.photos#user_id -> log://scribe/profile_owners#owner
}

void ProfileExporter::sendOwner(int64_t owner) {
  scribe_->log("profile_owners", folly::dynamic::object("owner", owner));
}

}  // namespace profiles
