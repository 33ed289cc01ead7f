// tito reports every problem as one line that says what to do instead.
#pragma once

#include <stdexcept>
#include <string>

namespace tito {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace tito
