// The course as tito sees it: the nine modules (folder names, grading points) and the four
// milestones with the modules each milestone program really uses.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace tito {

struct CourseModule {
  int number;         ///< 1..9
  std::string name;   ///< "09_spatial": the tests folder, the CTest label, the marker tag
  std::string title;  ///< "Spatial"
  int points;         ///< the course's weight of the module in a grade
};

struct Milestone {
  int number;               ///< 1..4
  std::string year, title;  ///< "1998", "The convolutional network"
  std::string program;      ///< the CMake target under milestones/
  std::vector<int> needs;   ///< modules whose exercises the program calls
};

const std::vector<CourseModule>& modules();
const std::vector<Milestone>& milestones();

/// "09" for 9.
std::string two_digits(int number);

/// The module for "9" or "09"; anything else (12, "spatial", "09_spatial") throws a one-line
/// tito::Error that says what to type instead.
const CourseModule& parse_module(const std::string& text);
/// The module whose folder/tag name is `name` ("05_autograd"), if any.
std::optional<CourseModule> module_named(const std::string& name);
/// "01-04", "1,3,5", "01-04,06", "none" -> module numbers; throws tito::Error otherwise.
std::vector<int> parse_module_set(const std::string& text);
/// The modules a student copy was handed solved, as its `tito release` recorded them in
/// <copy>/.tito/release.json (sorted). `note` says why none or not all could be read.
std::vector<int> recorded_kept_modules(const std::string& copy_dir, std::string& note);
/// The milestone for "4" or "04".
const Milestone& parse_milestone(const std::string& text);

}  // namespace tito
