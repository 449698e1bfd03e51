// The test publisher's pure parts: access-unit splitting of an ffmpeg-made Annex-B stream,
// Ogg Opus loading, pacing by media timestamps on a simulated clock (no sockets, no sleeps),
// seamless looping, NACK history, PLI -> next IDR, sender reports, and the command line.
#include <gtest/gtest.h>

#include "app/publisher/media_file_source.hpp"
#include "app/publisher/publisher_media.hpp"
#include "app/publisher/test_publisher.hpp"
#include "proto/rtcp_sender_report.hpp"
#include "proto/rtp_builder.hpp"
#include "proto/rtp_packet.hpp"
#include "support/testdata.hpp"

namespace ivs::app {
namespace {

std::vector<H264AccessUnit> tiny_video() {
  auto units = load_h264_file(test::testdata_path("media/tiny_160x96_10fps.h264"));
  EXPECT_TRUE(units) << units.error().message;
  return units ? *units : std::vector<H264AccessUnit>{};
}

std::vector<OpusPacket> sine_audio() {
  auto packets = load_ogg_opus_file(test::testdata_path("opus/sine-1s.ogg"));
  EXPECT_TRUE(packets) << packets.error().message;
  return packets ? *packets : std::vector<OpusPacket>{};
}

MediaFileSource::Options options(double fps) {
  MediaFileSource::Options o;
  o.video_payload_type = 102;
  o.audio_payload_type = 111;
  o.video_ssrc = 0x11111111;
  o.audio_ssrc = 0x22222222;
  o.video_sequence = 65530;  // wraps during the test
  o.audio_sequence = 100;
  o.video_timestamp = 0xFFFFF000;
  o.audio_timestamp = 5000;
  o.fps = fps;
  o.max_payload = 1000;
  return o;
}

TEST(MediaFileTest, SplitsTheFfmpegStreamIntoAccessUnits) {
  const auto units = tiny_video();
  ASSERT_EQ(units.size(), 10U);  // 1 s at 10 fps
  EXPECT_TRUE(units[0].keyframe);
  EXPECT_TRUE(units[5].keyframe);  // -g 5
  EXPECT_FALSE(units[1].keyframe);
  // The first unit carries SPS and PPS ahead of the IDR slice.
  ASSERT_GE(units[0].nal_units.size(), 3U);
  EXPECT_EQ(units[0].nal_units[0][0] & 0x1F, 7);
  EXPECT_EQ(units[0].nal_units[1][0] & 0x1F, 8);
}

TEST(MediaFileTest, RefusesStreamsWithoutAnIdrStart) {
  EXPECT_FALSE(split_access_units(Bytes{0, 0, 0, 1, 0x41, 0x9A, 0, 0}));  // P slice only
  EXPECT_FALSE(split_access_units(Bytes{1, 2, 3}));
  EXPECT_FALSE(load_h264_file("/nonexistent/file.h264"));
  auto not_ogg = load_ogg_opus_file(test::testdata_path("media/tiny_160x96_10fps.h264"));
  ASSERT_FALSE(not_ogg);
  EXPECT_NE(not_ogg.error().message.find("tiny_160x96_10fps.h264"), std::string::npos);
}

TEST(MediaFileTest, LoadsOpusPacketsWithDurations) {
  const auto audio = sine_audio();
  ASSERT_GE(audio.size(), 50U);
  for (const auto& packet : audio) {
    EXPECT_EQ(packet.samples, 960U);
  }
}

struct Sent {
  std::vector<proto::RtpPacket> video;
  std::vector<proto::RtpPacket> audio;
};

void collect(const std::vector<Bytes>& packets, Sent& sent) {
  for (const Bytes& bytes : packets) {
    auto view = proto::parse_rtp(bytes);
    ASSERT_TRUE(view);
    auto packet = proto::RtpPacket::from_view(*view);
    (packet.payload_type == 102 ? sent.video : sent.audio).push_back(packet);
  }
}

TEST(MediaFileSourceTest, PacesByTimestampsAndLoopsSeamlessly) {
  MediaFileSource source(tiny_video(), sine_audio(), options(10));
  const Instant start{};
  Sent sent;
  // Three seconds in 7 ms steps: three loops of the 1 s video and of the ~1 s audio.
  for (Instant now = start; now <= start + milliseconds(2999); now += milliseconds(7)) {
    collect(source.due(now), sent);
    ASSERT_TRUE(source.next_due());
    EXPECT_GT(*source.next_due(), now);
  }
  EXPECT_EQ(source.stats().video_frames, 30U);  // frames at 0, 100, ..., 2900 ms
  EXPECT_EQ(source.stats().loops, 3U);
  EXPECT_EQ(source.stats().keyframes, 6U);
  EXPECT_EQ(source.stats().audio_packets, 150U);  // every 20 ms
  // Sequence numbers and timestamps only ever advance, across the wrap and the loops.
  for (std::size_t i = 1; i < sent.video.size(); ++i) {
    EXPECT_EQ(static_cast<std::uint16_t>(sent.video[i].sequence_number -
                                         sent.video[i - 1].sequence_number),
              1);
    const auto step =
        static_cast<std::uint32_t>(sent.video[i].timestamp - sent.video[i - 1].timestamp);
    EXPECT_TRUE(step == 0 || step == 9000) << step;  // 90 kHz / 10 fps
  }
  for (std::size_t i = 1; i < sent.audio.size(); ++i) {
    EXPECT_EQ(sent.audio[i].timestamp - sent.audio[i - 1].timestamp, 960U);
    EXPECT_EQ(sent.audio[i].ssrc, 0x22222222U);
  }
  // The 51-packet audio file is cut to the video's 1 s (50 packets): both loop together.
  ASSERT_GE(sent.audio.size(), 101U);
  EXPECT_EQ(sent.audio[50].payload, sent.audio[0].payload);
  EXPECT_EQ(sent.audio[100].payload, sent.audio[0].payload);
  EXPECT_NE(sent.audio[49].payload, sent.audio[0].payload);
  EXPECT_EQ(sent.video.front().timestamp, 0xFFFFF000U);
  EXPECT_EQ(sent.video.back().timestamp, 0xFFFFF000U + 29 * 9000);
  // Marker on exactly the last packet of each frame.
  std::size_t markers = 0;
  for (const auto& packet : sent.video) {
    markers += packet.marker ? 1 : 0;
  }
  EXPECT_EQ(markers, 30U);
}

TEST(MediaFileSourceTest, ALateTickCatchesUpInTimestampOrder) {
  MediaFileSource source(tiny_video(), sine_audio(), options(10));
  Sent sent;
  collect(source.due(Instant{}), sent);
  collect(source.due(Instant{} + milliseconds(450)), sent);  // a stalled loop
  EXPECT_EQ(source.stats().video_frames, 5U);
  EXPECT_EQ(source.stats().audio_packets, 23U);  // 0..440 ms
}

TEST(MediaFileSourceTest, AnswersNacksFromHistoryOnly) {
  MediaFileSource source(tiny_video(), {}, options(10));
  Sent sent;
  collect(source.due(Instant{} + milliseconds(250)), sent);
  ASSERT_FALSE(sent.video.empty());
  EXPECT_TRUE(sent.audio.empty());
  const auto wanted = sent.video[1].sequence_number;
  auto again = source.retransmission(0x11111111, wanted);
  ASSERT_TRUE(again);
  EXPECT_EQ(proto::parse_rtp(*again)->sequence_number, wanted);
  EXPECT_FALSE(source.retransmission(0x22222222, wanted));  // other SSRC
  EXPECT_FALSE(source.retransmission(0x11111111, static_cast<std::uint16_t>(wanted - 100)));
  EXPECT_EQ(source.stats().retransmitted, 1U);
}

TEST(MediaFileSourceTest, KeyframeRequestJumpsToTheNextIdr) {
  MediaFileSource source(tiny_video(), {}, options(10));
  source.due(Instant{});                      // frame 0 (IDR)
  source.due(Instant{} + milliseconds(100));  // frame 1
  source.request_keyframe();
  Sent sent;
  collect(source.due(Instant{} + milliseconds(200)), sent);
  EXPECT_EQ(source.stats().keyframes, 2U);  // the next one sent is the IDR at index 5
  EXPECT_EQ(source.stats().keyframe_requests, 1U);
  // Timestamps stay continuous: a jump in content, not in time.
  EXPECT_EQ(sent.video.front().timestamp, 0xFFFFF000U + 2 * 9000);
}

TEST(MediaFileSourceTest, SenderReportsExtrapolateTheRtpClock) {
  MediaFileSource source(tiny_video(), sine_audio(), options(10));
  EXPECT_TRUE(source.sender_reports(Instant{}, WallTime{}).empty());
  source.due(Instant{});
  const auto reports = source.sender_reports(Instant{} + milliseconds(500), WallTime{1000000});
  ASSERT_EQ(reports.size(), 2U);
  auto video = proto::RtcpSenderReport::parse(reports[0]);
  ASSERT_TRUE(video);
  EXPECT_EQ(video->sender_ssrc, 0x11111111U);
  EXPECT_EQ(video->rtp_timestamp, 0xFFFFF000U + 45000);
  EXPECT_EQ(video->ntp_timestamp, to_ntp(WallTime{1000000}));
  auto audio = proto::RtcpSenderReport::parse(reports[1]);
  ASSERT_TRUE(audio);
  EXPECT_EQ(audio->rtp_timestamp, 5000U + 24000);
  EXPECT_EQ(audio->packet_count, 1U);
}

TEST(PublisherArgsTest, ParsesEveryOption) {
  auto options =
      parse_publisher_args({"--url", "http://127.0.0.1:3002/whip/s1", "--token", "t", "--seconds",
                            "2.5", "--size", "640x360", "--fps=25", "--bitrate", "900"});
  ASSERT_TRUE(options) << options.error().message;
  EXPECT_EQ(options->token, "t");
  EXPECT_DOUBLE_EQ(*options->seconds, 2.5);
  EXPECT_EQ(options->width, 640);
  EXPECT_EQ(options->height, 360);
  EXPECT_EQ(options->fps, 25);
  EXPECT_EQ(options->bitrate_kbps, 900);
}

TEST(PublisherArgsTest, RefusesBadArguments) {
  EXPECT_FALSE(parse_publisher_args({}));
  EXPECT_FALSE(parse_publisher_args({"--url", "ftp://x/whip"}));
  EXPECT_FALSE(parse_publisher_args({"--url", "http://h/w", "--size", "640"}));
  EXPECT_FALSE(parse_publisher_args({"--url", "http://h/w", "--size", "641x360"}));
  EXPECT_FALSE(parse_publisher_args({"--url", "http://h/w", "--fps", "0"}));
  EXPECT_FALSE(parse_publisher_args({"--url", "http://h/w", "--bitrate", "9000"}));
  EXPECT_FALSE(parse_publisher_args({"--url", "http://h/w", "--seconds", "-1"}));
  EXPECT_FALSE(parse_publisher_args({"--url", "http://h/w", "--audio", "a.ogg"}));
  EXPECT_FALSE(parse_publisher_args({"--url", "http://h/w", "--what", "x"}));
  EXPECT_FALSE(parse_publisher_args({"--url"}));
}

TEST(PublisherArgsTest, LoopbackHosts) {
  EXPECT_TRUE(is_loopback_host("127.0.0.1"));
  EXPECT_TRUE(is_loopback_host("127.1.2.3"));
  EXPECT_TRUE(is_loopback_host("localhost"));
  EXPECT_TRUE(is_loopback_host("[::1]"));
  EXPECT_FALSE(is_loopback_host("global.whip.live-video.net"));
  EXPECT_FALSE(is_loopback_host("10.0.0.1"));
}

TEST(PublisherMediaTest, CacheDirectoryIsKeyedByTheParameters) {
  GeneratedMediaParams params;
  EXPECT_EQ(generated_media_dir(params, "/c", "/home/u"),
            "/c/ivs-media-server/1280x720-30fps-2500k-10s-v1");
  params.width = 640;
  params.height = 360;
  EXPECT_EQ(generated_media_dir(params, "", "/home/u"),
            "/home/u/.cache/ivs-media-server/640x360-30fps-2500k-10s-v1");
}

TEST(PublisherSummaryTest, OneJsonLineWithTheContractFields) {
  PublisherSummary summary;
  summary.connected = true;
  summary.video_frames = 3;
  summary.failure = "x";
  const std::string json = summary.to_json();
  EXPECT_EQ(json.find('\n'), std::string::npos);
  for (const char* field : {"\"connected\":true", "\"videoFrames\":3", "\"audioPackets\":0",
                            "\"nacks\":0", "\"plis\":0", "\"failure\":\"x\""}) {
    EXPECT_NE(json.find(field), std::string::npos) << field << " in " << json;
  }
}

}  // namespace
}  // namespace ivs::app
