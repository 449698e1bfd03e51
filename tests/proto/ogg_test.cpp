// Ogg page/packet demultiplexing (RFC 3533) and the Ogg Opus mapping (RFC 7845) over a file
// ffmpeg/libopus wrote (testdata/opus/README.md), plus hand-edited corruptions of it.
#include "proto/ogg.hpp"

#include <gtest/gtest.h>

#include "support/testdata.hpp"

namespace ivs::proto {
namespace {

Bytes load_sine() {
  const std::string text = test::read_testdata("opus/sine-1s.ogg");
  return Bytes(text.begin(), text.end());
}

TEST(OggCrc, MatchesTheRfc3533Polynomial) {
  // CRC-32/MPEG-2 style without the initial ~0 and final xor: "123456789" -> 0x89A1897F.
  EXPECT_EQ(ogg_crc32(as_bytes("123456789")), 0x89A1897FU);
  EXPECT_EQ(ogg_crc32({}), 0U);
}

TEST(OggPage, ParsesTheFirstPageOfAFfmpegFile) {
  const Bytes file = load_sine();
  auto page = OggPage::parse(file);
  ASSERT_TRUE(page) << page.error().message;
  EXPECT_EQ(page->header_type, OggPage::kBeginOfStream);
  EXPECT_EQ(page->granule_position, 0U);
  EXPECT_EQ(page->sequence, 0U);
  ASSERT_EQ(page->lacing.size(), 1U);
  EXPECT_EQ(page->body.size(), 19U);  // OpusHead of a family-0 stream
  EXPECT_EQ(page->size, 27U + 1U + 19U);
}

TEST(OggPage, RefusesACorruptedPage) {
  Bytes file = load_sine();
  file[40] ^= 0x01;  // inside the first page's body
  auto page = OggPage::parse(file);
  ASSERT_FALSE(page);
  EXPECT_NE(page.error().message.find("CRC"), std::string::npos);

  Bytes bad_magic = load_sine();
  bad_magic[0] = 'X';
  EXPECT_FALSE(OggPage::parse(bad_magic));
}

TEST(OggPage, RefusesTruncation) {
  const Bytes file = load_sine();
  EXPECT_FALSE(OggPage::parse(ByteSpan(file).first(20)));
  EXPECT_FALSE(OggPage::parse(ByteSpan(file).first(30)));
  EXPECT_TRUE(OggPage::parse(ByteSpan(file).first(47)));
  EXPECT_FALSE(OggPage::parse(ByteSpan(file).first(46)));
}

TEST(OggOpus, ReadsHeadersAndAudioPackets) {
  auto opus = parse_ogg_opus(load_sine());
  ASSERT_TRUE(opus) << opus.error().message;
  EXPECT_EQ(opus->head.channels, 1);
  EXPECT_EQ(opus->head.input_sample_rate, 48000U);
  EXPECT_EQ(opus->head.mapping_family, 0);
  EXPECT_GT(opus->head.pre_skip, 0);
  // 1 s of audio plus the encoder's pre-skip, in 20 ms packets.
  ASSERT_GE(opus->packets.size(), 50U);
  EXPECT_LE(opus->packets.size(), 52U);
  std::uint64_t samples = 0;
  for (const Bytes& packet : opus->packets) {
    auto duration = opus_packet_samples(packet);
    ASSERT_TRUE(duration) << duration.error().message;
    EXPECT_EQ(*duration, 960U);
    samples += *duration;
  }
  EXPECT_GE(samples, 48000U);
}

TEST(OggPackets, GranuleMarksTheLastPacketOfEachPage) {
  auto packets = parse_ogg_packets(load_sine());
  ASSERT_TRUE(packets) << packets.error().message;
  std::size_t with_granule = 0;
  for (const OggPacket& packet : *packets) {
    if (packet.granule_position != ~std::uint64_t{0}) {
      ++with_granule;
    }
  }
  EXPECT_EQ(with_granule, 4U);  // one per page: OpusHead, OpusTags, two audio pages
  EXPECT_EQ(packets->back().granule_position, 48312U);
}

// Builds one page around `body` split into lacing values by `packet_sizes` (255-byte segments
// plus a terminating shorter one, RFC 3533 §5), with a correct CRC.
Bytes make_page(std::uint8_t type, std::uint32_t sequence, const std::vector<Bytes>& packets,
                bool last_unterminated = false) {
  Bytes page = {'O', 'g', 'g', 'S', 0, type};
  for (int i = 0; i < 8; ++i)
    page.push_back(0);
  for (std::uint32_t v : {0x1234U, sequence, 0U}) {
    for (int i = 0; i < 4; ++i)
      page.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  }
  std::vector<std::uint8_t> lacing;
  Bytes body;
  for (std::size_t p = 0; p < packets.size(); ++p) {
    std::size_t size = packets[p].size();
    while (size >= 255) {
      lacing.push_back(255);
      size -= 255;
    }
    if (!(last_unterminated && p + 1 == packets.size())) {
      lacing.push_back(static_cast<std::uint8_t>(size));
    }
    body.insert(body.end(), packets[p].begin(), packets[p].end());
  }
  page.push_back(static_cast<std::uint8_t>(lacing.size()));
  page.insert(page.end(), lacing.begin(), lacing.end());
  page.insert(page.end(), body.begin(), body.end());
  const std::uint32_t crc = ogg_crc32(page);
  for (int i = 0; i < 4; ++i)
    page[22 + i] = static_cast<std::uint8_t>(crc >> (8 * i));
  return page;
}

TEST(OggPackets, JoinsAPacketContinuedAcrossPages) {
  const Bytes big(255 * 2, 0xAB);  // exactly two full segments: needs a 0 terminator
  Bytes file = make_page(OggPage::kBeginOfStream, 0, {Bytes{1, 2, 3}, big}, true);
  const Bytes rest = make_page(OggPage::kContinued, 1, {Bytes{}});
  file.insert(file.end(), rest.begin(), rest.end());
  auto packets = parse_ogg_packets(file);
  ASSERT_TRUE(packets) << packets.error().message;
  ASSERT_EQ(packets->size(), 2U);
  EXPECT_EQ((*packets)[0].data, (Bytes{1, 2, 3}));
  EXPECT_EQ((*packets)[1].data, big);
}

TEST(OggPackets, RefusesAStreamNotStartingWithBos) {
  const Bytes file = make_page(0, 0, {Bytes{1}});
  EXPECT_FALSE(parse_ogg_packets(file));
  EXPECT_FALSE(parse_ogg_packets({}));
  const Bytes orphan = make_page(OggPage::kBeginOfStream | OggPage::kContinued, 0, {Bytes{1}});
  EXPECT_FALSE(parse_ogg_packets(orphan));
}

TEST(OggOpus, RefusesANonOpusStream) {
  Bytes file = make_page(OggPage::kBeginOfStream, 0, {Bytes(19, 'x'), Bytes(8, 'y')});
  auto opus = parse_ogg_opus(file);
  ASSERT_FALSE(opus);
  EXPECT_NE(opus.error().message.find("OpusHead"), std::string::npos);
}

TEST(OpusPacket, DurationFromTheTocByte) {
  EXPECT_EQ(*opus_packet_samples(Bytes{0xF8}), 960U);         // CELT FB 20 ms, one frame
  EXPECT_EQ(*opus_packet_samples(Bytes{0xF9, 0, 0}), 1920U);  // code 1: two frames
  EXPECT_EQ(*opus_packet_samples(Bytes{0x08}), 960U);         // SILK NB 20 ms
  EXPECT_EQ(*opus_packet_samples(Bytes{0x70}), 480U);         // hybrid FB 10 ms
  EXPECT_EQ(*opus_packet_samples(Bytes{0xE3, 0x03}), 360U);   // CELT 2.5 ms x 3 (code 3)
  EXPECT_FALSE(opus_packet_samples(Bytes{}));
  EXPECT_FALSE(opus_packet_samples(Bytes{0xFB}));        // code 3 without count
  EXPECT_FALSE(opus_packet_samples(Bytes{0xFB, 0x00}));  // zero frames
  EXPECT_FALSE(opus_packet_samples(Bytes{0x1B, 0x3F}));  // 63 x 60 ms > 120 ms
}

}  // namespace
}  // namespace ivs::proto
