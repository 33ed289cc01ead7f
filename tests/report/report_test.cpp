// The training report: colour maps on hand-written values, the PNG and text encoders, the
// page's sections for SimpleCNN and LeNet-5, the confusion matrix against the Trainer's
// accuracy, the Trainer option (follow), and writing errors that leave no file behind.
#include <cmath>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <zlib.h>

#include <tinytorch/report/report.hpp>
#include <tinytorch/report/svg.hpp>
#include <tinytorch/tinytorch.hpp>

#include "support/scratch_dir.hpp"

namespace tinytorch {
namespace {

using testing::ScratchDir;

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

std::string read(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(ReportColours, DivergingIsSymmetricAroundZero) {
  // The middle of the map is 0, the ends are ±max_abs, whatever max_abs is.
  for (float m : {0.01f, 1.0f, 250.0f}) {
    EXPECT_EQ(diverging(0.0f, m).hex(), "#f7f7f7");
    EXPECT_EQ(diverging(m, m).hex(), "#b2182b");
    EXPECT_EQ(diverging(-m, m).hex(), "#2166ac");
    EXPECT_EQ(diverging(m / 3.0f, m).hex(), "#fddbc7");   // a stop of the map
    EXPECT_EQ(diverging(-m / 3.0f, m).hex(), "#d1e5f0");
  }
  // Halfway between the stops at 1/3 (253, 219, 199) and 2/3 (239, 138, 98): rounded means.
  EXPECT_EQ(diverging(0.5f, 1.0f), (Rgb{246, 179, 149}));
  // Beyond the largest |w| the ends stay; nothing to scale and NaN give the middle.
  EXPECT_EQ(diverging(7.0f, 1.0f).hex(), "#b2182b");
  EXPECT_EQ(diverging(-7.0f, 1.0f).hex(), "#2166ac");
  EXPECT_EQ(diverging(0.3f, 0.0f).hex(), "#f7f7f7");
  EXPECT_EQ(diverging(std::nanf(""), 1.0f).hex(), "#f7f7f7");
  EXPECT_EQ(diverging(1.0f, std::numeric_limits<float>::infinity()).hex(), "#f7f7f7");
}

TEST(ReportColours, ViridisAndGreyEnds) {
  EXPECT_EQ(viridis(0.0f).hex(), "#440154");
  EXPECT_EQ(viridis(0.5f).hex(), "#21918c");
  EXPECT_EQ(viridis(1.0f).hex(), "#fde725");
  EXPECT_EQ(viridis(-3.0f).hex(), "#440154");
  EXPECT_EQ(viridis(9.0f).hex(), "#fde725");
  EXPECT_EQ(viridis(std::nanf("")).hex(), "#440154");
  EXPECT_EQ(grey(0.0f).hex(), "#000000");
  EXPECT_EQ(grey(1.0f).hex(), "#ffffff");
  EXPECT_EQ(grey(0.5f).hex(), "#808080");
  // Brighter as t grows: a reader sees magnitude as lightness.
  for (float t = 0.0f; t < 1.0f; t += 0.125f) {
    const Rgb a = viridis(t), b = viridis(t + 0.125f);
    EXPECT_LT(a.r * 0.3 + a.g * 0.59 + a.b * 0.11, b.r * 0.3 + b.g * 0.59 + b.b * 0.11) << t;
  }
}

TEST(ReportEncoding, PngHoldsThePixelsGiven) {
  const std::vector<Rgb> px{{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {1, 2, 3}, {4, 5, 6}, {7, 8, 9}};
  const std::string png = encode_png(3, 2, px);
  ASSERT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  auto u32 = [&](std::size_t at) {
    return (static_cast<unsigned>(static_cast<unsigned char>(png[at])) << 24) |
           (static_cast<unsigned>(static_cast<unsigned char>(png[at + 1])) << 16) |
           (static_cast<unsigned>(static_cast<unsigned char>(png[at + 2])) << 8) |
           static_cast<unsigned>(static_cast<unsigned char>(png[at + 3]));
  };
  EXPECT_EQ(png.substr(12, 4), "IHDR");
  EXPECT_EQ(u32(16), 3u);  // width
  EXPECT_EQ(u32(20), 2u);  // height
  EXPECT_EQ(png[24], 8);   // bits per channel
  EXPECT_EQ(png[25], 2);   // RGB
  // Every chunk's CRC covers its type and data; the pixels come back from the IDAT chunk.
  std::size_t at = 8;
  std::string pixels;
  while (at < png.size()) {
    const std::size_t n = u32(at);
    const std::string body = png.substr(at + 4, 4 + n);
    EXPECT_EQ(u32(at + 8 + n),
              ::crc32(0L, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size())));
    if (body.substr(0, 4) == "IDAT") {
      uLongf size = 64;
      std::string raw(size, '\0');
      ASSERT_EQ(::uncompress(reinterpret_cast<Bytef*>(raw.data()), &size,
                             reinterpret_cast<const Bytef*>(body.data() + 4), static_cast<uLong>(n)),
                Z_OK);
      pixels = raw.substr(0, size);
    }
    at += 12 + n;
  }
  EXPECT_EQ(pixels, std::string("\0\xff\0\0\0\xff\0\0\0\xff\0\x01\x02\x03\x04\x05\x06\x07\x08\x09", 20));
  EXPECT_THROW(encode_png(3, 2, {}), std::invalid_argument);
  EXPECT_THROW(encode_png(0, 0, {}), std::invalid_argument);
}

TEST(ReportEncoding, Base64AndEscaping) {
  EXPECT_EQ(base64("Man"), "TWFu");
  EXPECT_EQ(base64("Ma"), "TWE=");
  EXPECT_EQ(base64("M"), "TQ==");
  EXPECT_EQ(base64(""), "");
  EXPECT_EQ(xml_escape("<a href=\"x\">T&C's</a>"),
            "&lt;a href=&quot;x&quot;&gt;T&amp;C&#39;s&lt;/a&gt;");
  EXPECT_EQ(xml_escape(std::string("a\x01" "b", 3)), "a\xEF\xBF\xBD" "b");
  EXPECT_EQ(svg_number(12.50), "12.5");
  EXPECT_EQ(svg_number(3.0), "3");
  EXPECT_EQ(svg_number(-0.001), "0");
}

TEST(ReportCharts, NeedAFiniteValue) {
  const double nan = std::nan("");
  EXPECT_THROW(line_chart("loss", "epoch", "loss", {{"train", {nan, nan}, chart_colour(0)}}),
               std::invalid_argument);
  const std::string svg =
      line_chart("loss", "epoch", "loss", {{"train", {2.0, 1.0, 0.5}, chart_colour(0)},
                                          {"test", {2.5, nan, 0.7}, chart_colour(1), true}})
          .str();
  EXPECT_EQ(count(svg, "<polyline"), 1u);  // the test line is broken by its gap: two dots
  EXPECT_NE(svg.find(">train</text>"), std::string::npos);
  EXPECT_NE(svg.find(">test</text>"), std::string::npos);
}

TrainingReport simple_cnn_report(SimpleCNN& model) {
  TrainingReport report("SimpleCNN <test> & friends");
  report.set_model(model, {1, 8, 8});
  EpochFigures e;
  e.train_loss = 1.0;
  e.test_accuracy = 0.5;
  report.add_epoch(e);
  return report;
}

TEST(ReportPage, SimpleCnnHasEveryKernelAndFeatureMap) {
  manual_seed(3);
  SimpleCNN model;
  TrainingReport report = simple_cnn_report(model);
  report.show_feature_maps(Tensor::rand({2, 1, 8, 8}));
  const std::string page = report.html();
  for (const char* id : {"run", "curves", "kernels", "feature-maps"}) {
    EXPECT_NE(page.find(std::string("<section id=\"") + id + "\">"), std::string::npos) << id;
  }
  EXPECT_EQ(page.find("<section id=\"confusion\">"), std::string::npos);  // not evaluated
  EXPECT_EQ(count(page, "class=\"kernel\""), 8u);         // Conv2d(1→8, 3×3)
  EXPECT_EQ(count(page, "class=\"kernel-before\""), 8u);  // the first layer, before training
  // Two images, each: conv [8, 6, 6], ReLU [8, 6, 6], pool [8, 3, 3].
  EXPECT_EQ(count(page, "class=\"feature-map\""), 2u * 24u);
  EXPECT_EQ(count(page, "class=\"input-image\""), 2u);
  EXPECT_NE(page.find("1 Conv2d [8, 6, 6]"), std::string::npos);
  EXPECT_NE(page.find("3 MaxPool2d [8, 3, 3]"), std::string::npos);
  EXPECT_NE(page.find("SimpleCNN &lt;test&gt; &amp; friends"), std::string::npos);  // escaped
  EXPECT_EQ(page.find("<test>"), std::string::npos);
  // Nothing outside the page: no script, no address to fetch.
  EXPECT_EQ(page.find("<script"), std::string::npos);
  for (const char* reference : {"href=\"http", "src=", "url(", "@import", "https://"}) {
    EXPECT_EQ(page.find(reference), std::string::npos) << reference;
  }
  EXPECT_EQ(count(page, "href=\"data:image/png;base64,"), count(page, "<image "));
}

TEST(ReportPage, LeNetHasEveryKernelAndFeatureMap) {
  manual_seed(3);
  auto model = lenet5();
  TrainingReport report("LeNet-5");
  report.set_model(*model, {1, 28, 28});
  report.add_epoch(EpochFigures{});
  report.show_feature_maps(Tensor::rand({1, 28, 28}));  // one image without the batch axis
  const std::string page = report.html();
  EXPECT_EQ(count(page, "class=\"kernel\""), 6u + 16u * 6u);
  EXPECT_EQ(count(page, "class=\"kernel-before\""), 6u);
  // conv [6, 28, 28], pool [6, 14, 14], ReLU, conv [16, 10, 10], pool [16, 5, 5], ReLU.
  EXPECT_EQ(count(page, "class=\"feature-map\""), 6u * 3u + 16u * 3u);
  EXPECT_NE(page.find("4 Conv2d [16, 10, 10]"), std::string::npos);
  // The summary: every layer with its output shape, and LeNet-5's 61,706 parameters.
  EXPECT_NE(page.find("<td>[400]</td>"), std::string::npos);
  EXPECT_NE(page.find("<td>61706</td>"), std::string::npos);
}

TEST(ReportPage, KernelColoursFollowTheWeights) {
  // One kernel of hand-written weights: the largest |w| of the layer takes the ends of the
  // map, 0 its middle.
  SimpleCNN model;
  Tensor w = model.parameters()[0];
  w.data().fill(0.0f);
  w.data()(0, 0, 0, 0) = 2.0f;
  w.data()(0, 0, 0, 1) = -2.0f;
  w.data()(0, 0, 0, 2) = 1.0f;
  TrainingReport report = simple_cnn_report(model);
  const std::string page = report.html();
  const std::size_t at = page.find("class=\"kernel\" data-layer=\"layers.0.weight\" data-out=\"0\"");
  ASSERT_NE(at, std::string::npos);
  const std::string kernel = page.substr(at, page.find("</g>", at) - at);
  std::vector<std::string> fills;
  const std::regex fill("fill=\"(#[0-9a-f]{6})\"");
  for (auto it = std::sregex_iterator(kernel.begin(), kernel.end(), fill); it != std::sregex_iterator(); ++it) {
    fills.push_back((*it)[1]);
  }
  ASSERT_EQ(fills.size(), 9u);
  EXPECT_EQ(fills[0], diverging(2.0f, 2.0f).hex());
  EXPECT_EQ(fills[0], "#b2182b");
  EXPECT_EQ(fills[1], "#2166ac");
  EXPECT_EQ(fills[2], diverging(1.0f, 2.0f).hex());
  for (std::size_t i = 3; i < 9; ++i) EXPECT_EQ(fills[i], "#f7f7f7") << i;
}

TEST(ReportPage, ConfusionMatrixMatchesTheTrainersAccuracy) {
  manual_seed(5);
  SimpleCNN model;
  const DigitsSplit digits = load_digits();
  SGD optimizer(model.parameters(), 0.05f);
  Trainer trainer(model, optimizer, cross_entropy);
  DataLoader train(std::make_shared<TensorDataset>(
                       std::vector<Tensor>{digits.train.images, digits.train.labels}),
                   DataLoaderOptions(32).shuffle(true).seed(1));
  DataLoader test(std::make_shared<TensorDataset>(
                      std::vector<Tensor>{digits.test.images, digits.test.labels}),
                  DataLoaderOptions(64));
  trainer.train_epoch(train);
  const float accuracy = trainer.evaluate(test).accuracy;
  TrainingReport report = simple_cnn_report(model);
  const double shown = report.evaluate(digits.test.images, digits.test.labels, 5);
  std::size_t total = 0, diagonal = 0;
  for (std::size_t t = 0; t < 10; ++t) {
    for (std::size_t p = 0; p < 10; ++p) total += report.confusion()[t][p];
    diagonal += report.confusion()[t][t];
  }
  EXPECT_EQ(total, digits.test.size());
  EXPECT_DOUBLE_EQ(shown, static_cast<double>(diagonal) / static_cast<double>(total));
  EXPECT_NEAR(shown, accuracy, 1e-6);
  EXPECT_GT(shown, 0.3);  // one epoch learns something: the test is not of an empty matrix
  const std::string page = report.html();
  EXPECT_EQ(count(page, "class=\"cell\""), 100u);
  EXPECT_EQ(count(page, "class=\"mistake\""), std::min<std::size_t>(5, total - diagonal));
  EXPECT_NE(page.find("<section id=\"mistakes\">"), std::string::npos);
}

TEST(ReportPage, ConfusionMatrixByHand) {
  // A Linear layer whose outputs are its inputs: the prediction is the largest input.
  auto identity = std::make_shared<Linear>(3, 3);
  identity->weight.data() = Tensor({{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}).data();
  identity->bias.data().fill(0.0f);
  Sequential model({identity});
  TrainingReport report("by hand");
  report.set_model(model, {3});
  report.set_class_names({"cat", "dog", "owl"});
  const Tensor x({{5, 1, 0}, {0, 5, 1}, {0, 1, 5}, {5, 0, 0}, {0, 0, 9}});
  const double acc = report.evaluate(x, Tensor({0, 1, 2, 1, 1}));
  EXPECT_DOUBLE_EQ(acc, 0.6);
  const std::vector<std::vector<std::size_t>> expected{{1, 0, 0}, {1, 1, 1}, {0, 0, 1}};
  EXPECT_EQ(report.confusion(), expected);
  report.add_epoch(EpochFigures{});
  const std::string page = report.html();
  EXPECT_NE(page.find(R"(data-truth="1" data-predicted="2" data-count="1")"), std::string::npos);
  EXPECT_NE(page.find("truth: dog"), std::string::npos);
  EXPECT_NE(page.find(">owl "), std::string::npos);
  // A label that is no class of the model is refused, naming it.
  try {
    report.evaluate(x, Tensor({0, 1, 2, 3, 1}));
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("label 3 of image 3"), std::string::npos) << e.what();
  }
  EXPECT_THROW(report.evaluate(x, Tensor({0, 1})), std::invalid_argument);
}

TEST(ReportPage, BadInputIsAClearError) {
  TrainingReport report;
  EXPECT_THROW(report.show_feature_maps(Tensor::rand({1, 1, 8, 8})), std::invalid_argument);
  SimpleCNN model;
  report.set_model(model, {1, 8, 8});
  EXPECT_THROW(report.show_feature_maps(Tensor::rand({8, 8})), std::invalid_argument);
  // A model that is no chain of layers has no feature maps to take apart.
  struct Custom : Module {
    Custom() { fc = register_module("fc", std::make_shared<Linear>(4, 2)); }
    Tensor forward(const Tensor& x) override { return (*fc)(x) * 2.0f; }
    std::string name() const override { return "Custom"; }
    std::shared_ptr<Linear> fc;
  } custom;
  TrainingReport other;
  other.set_model(custom, {4});
  try {
    other.show_feature_maps(Tensor::rand({1, 1, 2, 2}));
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("Custom is not a chain of layers"), std::string::npos);
  }
  // A sample shape the model cannot take names the layer.
  try {
    TrainingReport wrong;
    wrong.set_model(model, {3, 8});
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("layer 1 (Conv2d)"), std::string::npos) << e.what();
  }
}

TEST(ReportWrite, RefusesWhatWouldLoseOrHalfWriteAFile) {
  ScratchDir dir;
  SimpleCNN model;
  TrainingReport empty;
  const auto target = dir.path() / "run.html";
  // No epoch recorded: an error, and no file, not even a temporary one.
  try {
    empty.write(target.string());
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("no epoch is recorded"), std::string::npos);
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
  // An existing page stays as it was when a write is refused.
  TrainingReport report = simple_cnn_report(model);
  report.write(target.string());
  const std::string first = read(target);
  EXPECT_NE(first.find("</html>"), std::string::npos);
  EXPECT_THROW(empty.write(target.string()), std::invalid_argument);
  EXPECT_EQ(read(target), first);
  // A missing folder and a folder as the path are named.
  try {
    report.write((dir.path() / "missing" / "run.html").string());
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("does not exist"), std::string::npos) << e.what();
  }
  try {
    report.write(dir.path().string());
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("is a folder"), std::string::npos) << e.what();
  }
  EXPECT_THROW(report.write(""), std::invalid_argument);
  std::size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    (void)entry;
    ++files;
  }
  EXPECT_EQ(files, 1u);  // run.html alone: no temporary left behind
}

TEST(ReportTrainer, FollowRewritesThePageAfterEveryEpoch) {
  ScratchDir dir;
  manual_seed(7);
  SimpleCNN model;
  const DigitsSplit digits = load_digits();
  SGD optimizer(model.parameters(), 0.05f);
  Trainer trainer(model, optimizer, cross_entropy, CosineSchedule(0.05f, 0.005f, 3));
  const std::vector<Batch> train{{digits.train.images.slice(0, 256), digits.train.labels.slice(0, 256)}};
  const std::vector<Batch> test{{digits.test.images, digits.test.labels}};
  TrainingReport report("followed");
  report.set_model(model, {1, 8, 8});
  const auto path = (dir.path() / "live.html").string();
  report.follow(trainer, path);
  trainer.evaluate(test);  // before training: a setting, not an epoch
  EXPECT_FALSE(std::filesystem::exists(path));
  trainer.train_epoch(train);
  ASSERT_TRUE(std::filesystem::exists(path));  // written after the first epoch already
  EXPECT_NE(read(path).find("1 epoch."), std::string::npos);
  const EvalResult r1 = trainer.evaluate(test);
  trainer.train_epoch(train);
  trainer.train_epoch(train);
  const EvalResult r3 = trainer.evaluate(test);
  ASSERT_EQ(report.epochs().size(), 3u);
  const auto& e = report.epochs();
  EXPECT_FLOAT_EQ(static_cast<float>(e[0].test_accuracy), r1.accuracy);
  EXPECT_TRUE(std::isnan(e[1].test_accuracy));  // not evaluated after epoch 2
  EXPECT_FLOAT_EQ(static_cast<float>(e[2].test_loss), r3.loss);
  EXPECT_FLOAT_EQ(static_cast<float>(e[0].train_loss), trainer.history().train_loss[0]);
  // The learning rate each epoch ran at: the optimizer's, then the schedule's.
  EXPECT_FLOAT_EQ(static_cast<float>(e[0].learning_rate), 0.05f);
  EXPECT_FLOAT_EQ(static_cast<float>(e[1].learning_rate), trainer.history().learning_rates[0]);
  EXPECT_GT(e[2].seconds, 0.0);
  EXPECT_GT(e[2].train_accuracy, 0.0);
  const std::string page = read(path);
  EXPECT_NE(page.find("3 epochs."), std::string::npos);
  EXPECT_NE(page.find("data-chart=\"learning-rate\""), std::string::npos);  // the schedule moved
  EXPECT_NE(page.find("test accuracy before training"), std::string::npos);
}

TEST(ReportTrainer, HistoryRecordsTrainAccuracyAndSeconds) {
  // A Linear layer that outputs its inputs, lr 0: the train accuracy is that of the inputs.
  auto identity = std::make_shared<Linear>(2, 2);
  identity->weight.data() = Tensor({{1, 0}, {0, 1}}).data();
  identity->bias.data().fill(0.0f);
  Sequential model({identity});
  SGD optimizer(model.parameters(), 0.0f);
  Trainer trainer(model, optimizer, cross_entropy);
  const std::vector<Batch> batches{{Tensor({{2, 1}, {0, 3}}), Tensor({0, 0})},
                                   {Tensor({{1, 0}, {5, 4}}), Tensor({0, 1})}};
  trainer.train_epoch(batches);
  ASSERT_EQ(trainer.history().train_accuracy.size(), 1u);
  EXPECT_FLOAT_EQ(trainer.history().train_accuracy[0], 0.5f);  // rows 1 and 3 are right
  ASSERT_EQ(trainer.history().epoch_seconds.size(), 1u);
  EXPECT_GE(trainer.history().epoch_seconds[0], 0.0f);
  // Both survive a checkpoint.
  ScratchDir dir;
  trainer.save_checkpoint((dir.path() / "c.safetensors").string());
  Trainer resumed(model, optimizer, cross_entropy);
  resumed.load_checkpoint((dir.path() / "c.safetensors").string());
  EXPECT_EQ(resumed.history().train_accuracy, trainer.history().train_accuracy);
  EXPECT_EQ(resumed.history().epoch_seconds, trainer.history().epoch_seconds);
}

TEST(ReportPage, DecisionMapForTwoInputs) {
  auto neuron = std::make_shared<Linear>(2, 1);
  neuron->weight.data() = Tensor({{1}, {1}}).data();
  neuron->bias.data().fill(-1.0f);
  Sequential model({neuron, std::make_shared<Sigmoid>()});
  TrainingReport report("boundary");
  report.set_model(model, {2});
  report.add_epoch(EpochFigures{});
  report.show_decision_boundary(Tensor({{0, 0}, {1, 1}}), Tensor({0, 1}), -1, 2, -1, 2, 8);
  const std::string page = report.html();
  EXPECT_NE(page.find("<section id=\"decision\">"), std::string::npos);
  EXPECT_EQ(count(page, "class=\"point\""), 2u);
  EXPECT_THROW(report.show_decision_boundary(Tensor({{0, 0, 0}}), Tensor({0}), -1, 2, -1, 2),
               std::invalid_argument);
  EXPECT_THROW(report.show_decision_boundary(Tensor({{0, 0}}), Tensor({0}), 2, -1, -1, 2),
               std::invalid_argument);
}

}  // namespace
}  // namespace tinytorch
