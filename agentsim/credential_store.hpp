// The credentials an agent signs with right now, shared between the agent's strand (which
// refreshes on-prem role tokens) and its sessions' strands (which sign CreateDataChannel and
// the data-channel upgrade). Thread-safe.
#pragma once

#include <mutex>
#include <optional>

#include "mocksvc/auth/request.hpp"

namespace ssmh::agentsim {

class CredentialStore {
 public:
  std::optional<mocksvc::auth::Credentials> get() const {
    std::lock_guard lock(mu_);
    return credentials_;
  }
  void set(mocksvc::auth::Credentials credentials) {
    std::lock_guard lock(mu_);
    credentials_ = std::move(credentials);
  }

 private:
  mutable std::mutex mu_;
  std::optional<mocksvc::auth::Credentials> credentials_;
};

}  // namespace ssmh::agentsim
