`timescale 1ns/1ps
`default_nettype none
// noc_mesh: ROWS x COLS mesh of noc_router. Router n = row*COLS + col sits at x = col,
// y = row (south = row + 1). Each router's local port is the tile interface, exposed
// as flat vectors (slice n belongs to router n). Flits address a router by
// {dst_y, dst_x} in their low X_BITS + Y_BITS bits (see noc_router.v).
module noc_mesh #(
    parameter integer ROWS   = 2,
    parameter integer COLS   = 2,
    parameter integer FLIT_W = 32,
    parameter integer DEPTH  = 4
) (
    input  wire                       clk,
    input  wire                       rst,
    input  wire [ROWS*COLS-1:0]        in_valid,
    output wire [ROWS*COLS-1:0]        in_ready,
    input  wire [ROWS*COLS*FLIT_W-1:0] in_data,
    output wire [ROWS*COLS-1:0]        out_valid,
    input  wire [ROWS*COLS-1:0]        out_ready,
    output wire [ROWS*COLS*FLIT_W-1:0] out_data
);
    localparam integer NR     = ROWS * COLS;
    localparam integer X_BITS = (COLS > 1) ? $clog2(COLS) : 1;
    localparam integer Y_BITS = (ROWS > 1) ? $clog2(ROWS) : 1;
    localparam integer PW     = 5 * FLIT_W;   // one router's five ports

    // Each router's output bundle is its own net (an array element), and each input
    // bundle is a concatenation of the links that feed it: no wide shared vector, so a
    // change on one link wakes only its reader (event-driven simulators care).
    wire [4:0]  r_out_valid [0:NR-1];
    wire [4:0]  r_in_ready  [0:NR-1];
    wire [PW-1:0] r_out_data [0:NR-1];

    genvar r, c;
    generate
        for (r = 0; r < ROWS; r = r + 1) begin : g_row
            for (c = 0; c < COLS; c = c + 1) begin : g_col
                localparam integer N = r * COLS + c;
                // links into this router from the north, east, south and west
                wire              n_valid, e_valid, s_valid, w_valid;
                wire              n_ready, e_ready, s_ready, w_ready;
                wire [FLIT_W-1:0] n_data, e_data, s_data, w_data;

                noc_router #(.FLIT_W(FLIT_W), .DEPTH(DEPTH), .X_BITS(X_BITS),
                             .Y_BITS(Y_BITS), .X(c), .Y(r)) u_router (
                    .clk(clk), .rst(rst),
                    .in_valid({w_valid, s_valid, e_valid, n_valid, in_valid[N]}),
                    .in_ready(r_in_ready[N]),
                    .in_data({w_data, s_data, e_data, n_data, in_data[N*FLIT_W +: FLIT_W]}),
                    .out_valid(r_out_valid[N]),
                    .out_ready({w_ready, s_ready, e_ready, n_ready, out_ready[N]}),
                    .out_data(r_out_data[N]));

                // local port (0): the tile
                assign in_ready[N]                  = r_in_ready[N][0];
                assign out_valid[N]                 = r_out_valid[N][0];
                assign out_data[N*FLIT_W +: FLIT_W] = r_out_data[N][0 +: FLIT_W];

                // north port (1) <-> south port (3) of the router above
                if (r > 0) begin : g_n
                    assign n_valid = r_out_valid[N - COLS][3];
                    assign n_data  = r_out_data[N - COLS][3*FLIT_W +: FLIT_W];
                    assign n_ready = r_in_ready[N - COLS][3];
                end else begin : g_n_edge
                    assign n_valid = 1'b0;
                    assign n_data  = {FLIT_W{1'b0}};
                    assign n_ready = 1'b0;
                end
                // south port (3) <-> north port (1) of the router below
                if (r < ROWS - 1) begin : g_s
                    assign s_valid = r_out_valid[N + COLS][1];
                    assign s_data  = r_out_data[N + COLS][FLIT_W +: FLIT_W];
                    assign s_ready = r_in_ready[N + COLS][1];
                end else begin : g_s_edge
                    assign s_valid = 1'b0;
                    assign s_data  = {FLIT_W{1'b0}};
                    assign s_ready = 1'b0;
                end
                // east port (2) <-> west port (4) of the router to the right
                if (c < COLS - 1) begin : g_e
                    assign e_valid = r_out_valid[N + 1][4];
                    assign e_data  = r_out_data[N + 1][4*FLIT_W +: FLIT_W];
                    assign e_ready = r_in_ready[N + 1][4];
                end else begin : g_e_edge
                    assign e_valid = 1'b0;
                    assign e_data  = {FLIT_W{1'b0}};
                    assign e_ready = 1'b0;
                end
                // west port (4) <-> east port (2) of the router to the left
                if (c > 0) begin : g_w
                    assign w_valid = r_out_valid[N - 1][2];
                    assign w_data  = r_out_data[N - 1][2*FLIT_W +: FLIT_W];
                    assign w_ready = r_in_ready[N - 1][2];
                end else begin : g_w_edge
                    assign w_valid = 1'b0;
                    assign w_data  = {FLIT_W{1'b0}};
                    assign w_ready = 1'b0;
                end
            end
        end
    endgenerate
endmodule
`default_nettype wire
