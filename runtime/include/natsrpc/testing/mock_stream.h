// Copyright 2026 The natsrpc Authors.
//
// gMock mocks of the client stream interfaces of natsrpc/stream.h, as gRPC's
// MockClientReader and friends (grpcpp/test/mock_stream.h). A generated mock
// client (`Svc::MockClient`, from `foo.natsrpc_mock.h`) returns them from the
// `<Method>Raw` mock methods of streaming calls:
//
//   auto reader =
//   std::make_unique<natsrpc::testing::MockClientReader<Chunk>>();
//   EXPECT_CALL(*reader, Read(_))
//       .WillOnce(DoAll(SetArgPointee<0>(chunk), Return(true)))
//       .WillOnce(Return(false));
//   EXPECT_CALL(*reader, Finish()).WillOnce(Return(absl::OkStatus()));
//   EXPECT_CALL(mock_files, DownloadRaw(_, _))
//       .WillOnce(Return(ByMove(std::move(reader))));
//
// Header-only; needs gMock (Debian: libgmock-dev, CMake: GTest::gmock), so
// only test code includes it.

#ifndef NATSRPC_TESTING_MOCK_STREAM_H_
#define NATSRPC_TESTING_MOCK_STREAM_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "natsrpc/stream.h"
#include "natsrpc/stream_stats.h"

namespace natsrpc::testing {

template <typename Resp>
class MockClientReader : public ClientReaderInterface<Resp> {
 public:
  MOCK_METHOD(bool, Read, (Resp * reply), (override));
  MOCK_METHOD(absl::Status, Finish, (), (override));
  MOCK_METHOD(void, Cancel, (), (override));
  MOCK_METHOD(StreamStats, stats, (), (const, override));
};

template <typename Req, typename Resp>
class MockClientWriter : public ClientWriterInterface<Req, Resp> {
 public:
  MOCK_METHOD(bool, Write, (const Req& request), (override));
  MOCK_METHOD(bool, WritesDone, (), (override));
  MOCK_METHOD(absl::StatusOr<Resp>, Finish, (), (override));
  MOCK_METHOD(void, Cancel, (), (override));
  MOCK_METHOD(StreamStats, stats, (), (const, override));
};

template <typename Req, typename Resp>
class MockClientReaderWriter : public ClientReaderWriterInterface<Req, Resp> {
 public:
  MOCK_METHOD(bool, Write, (const Req& request), (override));
  MOCK_METHOD(bool, WritesDone, (), (override));
  MOCK_METHOD(bool, Read, (Resp * reply), (override));
  MOCK_METHOD(absl::Status, Finish, (), (override));
  MOCK_METHOD(void, Cancel, (), (override));
  MOCK_METHOD(StreamStats, stats, (), (const, override));
};

}  // namespace natsrpc::testing

#endif  // NATSRPC_TESTING_MOCK_STREAM_H_
